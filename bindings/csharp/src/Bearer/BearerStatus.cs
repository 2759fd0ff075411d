namespace Bearer
{
    /// <summary>
    /// The <c>bearer_status</c> numbers of <c>include/bearer.h</c>. Numbers are never
    /// reused; an unknown number is still a failure whose detail is the problem.
    /// The test suite checks these against the header so they cannot drift.
    /// </summary>
    public enum BearerStatus
    {
        /// <summary>Success.</summary>
        Ok = 0,
        /// <summary>NULL where a value is required, or text that is not UTF-8.</summary>
        InvalidArgument = 1,
        /// <summary>The configuration JSON is malformed, incomplete or unsafe.</summary>
        InvalidConfig = 2,
        /// <summary>The token endpoint refused (bad credentials, no grant, its own problem).</summary>
        Rejected = 3,
        /// <summary>The token endpoint is throttling; see <c>Extensions["retry_after"]</c>.</summary>
        RateLimited = 4,
        /// <summary>The endpoint could not be reached, failed (5xx) or redirected.</summary>
        Unavailable = 5,
        /// <summary>No answer within the deadline.</summary>
        Timeout = 6,
        /// <summary>The answer could not be read or was too large.</summary>
        BadResponse = 7,
        /// <summary>A bug in bearer (a panic caught at the boundary).</summary>
        Internal = 8,
        /// <summary>Another thread cancelled the wait (<see cref="BearerDevice.Cancel"/>); a device
        /// poll reports it as <see cref="System.OperationCanceledException"/>.</summary>
        Cancelled = 9,
    }
}
