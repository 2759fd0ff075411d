package com.bearer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A failure reported by bearer, carrying its RFC 9457 problem details.
 *
 * <p>Unchecked, because most callers can only log it and give up; those that
 * can do better switch on {@link #getCode()} (e.g. retry after
 * {@code getExtensions().get("retry_after")} seconds on
 * {@link BearerStatus#RATE_LIMITED}). The message is {@code "title: detail"}.
 * No part of it holds the client secret: the library scrubs it before the
 * problem crosses into Java.
 */
public class BearerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final BearerStatus code;
    private final String type;
    private final String title;
    private final int status;
    private final String detail;
    private final String instance;
    private final Map<String, Object> extensions;

    /** A problem with every member given; extensions may be null (none). */
    public BearerException(BearerStatus code, String type, String title, int status, String detail,
            String instance, Map<String, Object> extensions) {
        super(title + ": " + detail);
        this.code = Objects.requireNonNull(code, "code");
        this.type = type;
        this.title = title;
        this.status = status;
        this.detail = detail;
        this.instance = instance;
        this.extensions = extensions == null
                ? Collections.emptyMap()
                : Collections.unmodifiableMap(new LinkedHashMap<>(extensions));
    }

    /**
     * Called by the JNI shim with the status and the problem JSON (UTF-8) of a
     * failed call. A problem that cannot be read still becomes an exception.
     */
    @SuppressWarnings("unchecked")
    static BearerException fromNative(int statusCode, byte[] problemJson) {
        BearerStatus code = BearerStatus.fromCode(statusCode);
        if (problemJson == null) {
            return new BearerException(code, "urn:bearer:problem:internal", "No problem details", 500,
                    "bearer failed with status " + statusCode + " but wrote no problem", "", null);
        }
        String json = Native.text(problemJson);
        try {
            Map<String, Object> problem = Json.parseObject(json);
            Object extensions = problem.get("extensions");
            Object httpStatus = problem.get("status");
            return new BearerException(code,
                    stringOr(problem.get("type"), "about:blank"),
                    stringOr(problem.get("title"), ""),
                    httpStatus instanceof Number ? ((Number) httpStatus).intValue() : 0,
                    stringOr(problem.get("detail"), ""),
                    stringOr(problem.get("instance"), ""),
                    extensions instanceof Map ? (Map<String, Object>) extensions : null);
        } catch (IllegalArgumentException e) {
            return new BearerException(code, "urn:bearer:problem:internal", "Unreadable problem details", 500,
                    "bearer failed with status " + statusCode + " and a problem that is not JSON", "", null);
        }
    }

    private static String stringOr(Object value, String fallback) {
        return value instanceof String ? (String) value : fallback;
    }

    /** The kind of failure, as the C ABI's status number. */
    public BearerStatus getCode() {
        return code;
    }

    /** The problem type URI, e.g. {@code urn:bearer:problem:unauthorized}. */
    public String getType() {
        return type;
    }

    /** A short summary that is the same for every problem of this type. */
    public String getTitle() {
        return title;
    }

    /** The HTTP status of the problem (the upstream's, when it answered). */
    public int getStatus() {
        return status;
    }

    /** What happened this time. */
    public String getDetail() {
        return detail;
    }

    /** Where: the token URL, or a JSON pointer such as {@code #/client_secret}. */
    public String getInstance() {
        return instance;
    }

    /**
     * Members beyond the standard ones, e.g. {@code upstream_status},
     * {@code retry_after} or {@code key}. Unmodifiable; integers are
     * {@code Long}, objects {@code Map}, arrays {@code List}.
     */
    public Map<String, Object> getExtensions() {
        return extensions;
    }
}
