package com.bearer.http;

import com.bearer.BearerClient;
import java.net.URI;
import java.util.Locale;

/**
 * What every HTTP integration under {@code com.bearer.http} decides the same
 * way, in one place: whether a response says the token was refused, what to
 * do then, and whether a redirect stays on the origin the token is for. It
 * uses the JDK only, so it loads without any HTTP library.
 *
 * <p>A refusal is a 401 whose {@code WWW-Authenticate} has no challenge at all,
 * or a {@code Bearer} challenge with {@code error="invalid_token"} or without an
 * {@code error}. A {@code Bearer} challenge naming another error (e.g.
 * {@code invalid_request}), or only challenges of other schemes, is not: a new
 * token would not help, so that 401 passes through untouched, as does every
 * other status (403 {@code insufficient_scope} included).
 */
public final class TokenRefusal {
    /** The header the integrations set, overwriting any value already there. */
    public static final String AUTHORIZATION = "Authorization";

    private TokenRefusal() {}

    /**
     * Whether a response with {@code status} and these {@code WWW-Authenticate}
     * values (one per header line; empty when none came) means that the token
     * it carried was refused.
     */
    public static boolean isRefusal(int status, Iterable<String> wwwAuthenticate) {
        if (status != 401) {
            return false;
        }
        boolean anyChallenge = false;
        for (String value : wwwAuthenticate) {
            Boolean verdict = bearerVerdict(value);
            if (verdict != null) {
                return verdict;
            }
            if (value != null && !value.isBlank()) {
                anyChallenge = true;
            }
        }
        return !anyChallenge;
    }

    /**
     * After a refusal of {@code token}: reports it to the client
     * ({@link BearerClient#tokenRefused}), then returns the token to retry with,
     * or null when the request must not be sent again: the retry is off, the
     * body cannot be replayed, or the client's current token is still the
     * refused one (its two-second window kept it).
     *
     * @throws com.bearer.BearerException when no new token can be had
     */
    public static String afterRefusal(BearerClient client, String token, boolean retry, boolean replayable) {
        client.tokenRefused(token);
        if (!retry || !replayable) {
            return null;
        }
        String next = client.getToken();
        return next.equals(token) ? null : next;
    }

    /** {@code Bearer <token>}. */
    public static String header(String token) {
        return "Bearer " + token;
    }

    /** The token of a {@code Bearer <token>} header value, or null for anything else. */
    public static String tokenOf(String authorization) {
        if (authorization == null || authorization.length() < 8
                || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return authorization.substring(7).trim();
    }

    /** Whether two absolute URIs share scheme, host and port (the default port of the scheme when absent). */
    public static boolean sameOrigin(URI a, URI b) {
        if (a == null || b == null || a.getScheme() == null || b.getScheme() == null || a.getHost() == null
                || b.getHost() == null) {
            return false;
        }
        return a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost().toLowerCase(Locale.ROOT).equals(b.getHost().toLowerCase(Locale.ROOT))
                && port(a) == port(b);
    }

    private static int port(URI uri) {
        if (uri.getPort() != -1) {
            return uri.getPort();
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        return scheme.equals("https") ? 443 : scheme.equals("http") ? 80 : -1;
    }

    /**
     * The verdict of a {@code Bearer} challenge in one header value: true for
     * {@code invalid_token} or no error, false for another error, null when
     * the value holds no Bearer challenge. A value may hold several
     * challenges ({@code Basic realm="a", Bearer error="invalid_token"}).
     */
    private static Boolean bearerVerdict(String value) {
        if (value == null) {
            return null;
        }
        int i = 0;
        int n = value.length();
        boolean inBearer = false;
        boolean sawBearer = false;
        String error = null;
        while (i < n) {
            char c = value.charAt(i);
            if (c == ' ' || c == '\t' || c == ',') {
                i++;
                continue;
            }
            int start = i;
            while (i < n && " \t,=".indexOf(value.charAt(i)) < 0) {
                i++;
            }
            String word = value.substring(start, i);
            int j = i;
            while (j < n && (value.charAt(j) == ' ' || value.charAt(j) == '\t')) {
                j++;
            }
            if (j < n && value.charAt(j) == '=' && !word.isEmpty()) {
                // name=value or name="quoted", or the '=' padding of a token68
                i = j + 1;
                while (i < n && (value.charAt(i) == ' ' || value.charAt(i) == '\t')) {
                    i++;
                }
                String param;
                if (i < n && value.charAt(i) == '"') {
                    StringBuilder out = new StringBuilder();
                    i++;
                    while (i < n && value.charAt(i) != '"') {
                        if (value.charAt(i) == '\\' && i + 1 < n) {
                            i++;
                        }
                        out.append(value.charAt(i++));
                    }
                    i++;
                    param = out.toString();
                } else {
                    int s = i;
                    while (i < n && value.charAt(i) != ',') {
                        i++;
                    }
                    param = value.substring(s, i).trim();
                }
                if (inBearer && word.equalsIgnoreCase("error") && error == null) {
                    error = param;
                }
            } else if (!word.isEmpty()) {
                // a new challenge: its scheme
                if (inBearer) {
                    break; // the Bearer challenge ended; later ones do not change it
                }
                inBearer = word.equalsIgnoreCase("Bearer");
                sawBearer |= inBearer;
            } else {
                i++;
            }
        }
        if (!sawBearer) {
            return null;
        }
        return error == null || error.equals("invalid_token");
    }
}
