package com.bearer;

/**
 * The {@code BEARER_STATUS_*} numbers of {@code include/bearer.h}: what kind of
 * failure a {@link BearerException} reports. Numbers are never reused, so a
 * program may switch on them; the header test keeps this list in step.
 */
public enum BearerStatus {
    /** Success; never carried by an exception. */
    OK(0),
    /** A null where a value is required, or text that is not UTF-8. */
    INVALID_ARGUMENT(1),
    /** The configuration JSON is malformed, incomplete or unsafe. */
    INVALID_CONFIG(2),
    /** The token endpoint refused: bad credentials, no grant, bad request, or its own problem. */
    REJECTED(3),
    /** The token endpoint is throttling; see {@code extensions.retry_after}. */
    RATE_LIMITED(4),
    /** The token endpoint could not be reached, failed (5xx) or redirected. */
    UNAVAILABLE(5),
    /** No answer within the deadline. */
    TIMEOUT(6),
    /** The answer could not be read or was too large. */
    BAD_RESPONSE(7),
    /** A bug in bearer (a caught panic). */
    INTERNAL(8),
    /** A device-flow poll ended by {@link BearerDevice#cancel()}. */
    CANCELLED(9);

    private final int code;

    BearerStatus(int code) {
        this.code = code;
    }

    /** The number as the C ABI returns it. */
    public int code() {
        return code;
    }

    /**
     * The status for a number; a number this binding does not know (a newer
     * library) is reported as {@link #INTERNAL} rather than lost.
     */
    public static BearerStatus fromCode(int code) {
        for (BearerStatus status : values()) {
            if (status.code == code) {
                return status;
            }
        }
        return INTERNAL;
    }
}
