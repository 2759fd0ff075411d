using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;

namespace Bearer
{
    /// <summary>
    /// A failure reported by the library: the RFC 9457 problem it wrote, unchanged, plus
    /// the C status as <see cref="Code"/>. The message is "title: detail". It never holds
    /// the client secret, because the library scrubs every problem before returning it.
    /// </summary>
    [Serializable]
    public class BearerException : Exception
    {
        static readonly IReadOnlyDictionary<string, object> NoExtensions =
            new ReadOnlyDictionary<string, object>(new Dictionary<string, object>());

        /// <summary>The problem type, e.g. <c>urn:bearer:problem:unauthorized</c>, or the server's own.</summary>
        public string Type { get; private set; }
        /// <summary>A short, fixed summary of the problem type.</summary>
        public string Title { get; private set; }
        /// <summary>The HTTP status this problem corresponds to (400, 401, 429, 502, ...).</summary>
        public int Status { get; private set; }
        /// <summary>What happened this time.</summary>
        public string Detail { get; private set; }
        /// <summary>The token endpoint (no query, no user info), or a pointer such as <c>#/client_secret</c>.</summary>
        public string Instance { get; private set; }
        /// <summary>Extra members: <c>retry_after</c>, <c>key</c>, <c>upstream_status</c>, <c>error</c>, ...
        /// Numbers are <see cref="long"/> (or <see cref="double"/>), objects dictionaries, arrays lists.</summary>
        public IReadOnlyDictionary<string, object> Extensions { get; private set; }
        /// <summary>The <c>bearer_status</c> the call returned.</summary>
        public BearerStatus Code { get; private set; }
        /// <summary>The problem JSON exactly as the library wrote it.</summary>
        public string ProblemJson { get; private set; }

        BearerException(string message, BearerStatus code, string problemJson) : base(message)
        {
            Code = code;
            ProblemJson = problemJson;
            Extensions = NoExtensions;
        }

        /// <summary>Builds the exception from a status and the problem JSON the library returned.</summary>
        internal static BearerException FromProblem(BearerStatus code, string problemJson)
        {
            Dictionary<string, object> problem = null;
            if (problemJson != null)
            {
                try { problem = Json.ParseObject(problemJson); }
                catch (FormatException) { problem = null; }
            }
            if (problem == null)
            {
                // Not expected from the library; keep the status and whatever text there was.
                var bare = new BearerException("bearer failed: status " + (int)code, code, problemJson);
                bare.Title = "bearer failed";
                bare.Detail = "status " + (int)code + " without a readable problem";
                bare.Type = "about:blank";
                return bare;
            }
            string title = Str(problem, "title");
            string detail = Str(problem, "detail");
            var e = new BearerException(title + ": " + detail, code, problemJson);
            e.Type = Str(problem, "type");
            e.Title = title;
            e.Detail = detail;
            e.Instance = Str(problem, "instance");
            object status;
            if (problem.TryGetValue("status", out status) && status is long) e.Status = (int)(long)status;
            object extensions;
            if (problem.TryGetValue("extensions", out extensions) && extensions is Dictionary<string, object>)
                e.Extensions = new ReadOnlyDictionary<string, object>((Dictionary<string, object>)extensions);
            return e;
        }

        static string Str(Dictionary<string, object> obj, string key)
        {
            object value;
            return obj.TryGetValue(key, out value) ? value as string : null;
        }
    }
}
