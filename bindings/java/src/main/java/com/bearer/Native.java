package com.bearer;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The native declarations: one method per function of {@code include/bearer.h}
 * (the shim frees strings itself, so {@code bearer_string_free} has none), and
 * the code that finds and loads the libraries.
 *
 * <p>Strings cross as UTF-8 {@code byte[]}; a failed call throws the
 * {@link BearerException} built by {@link BearerException#fromNative}. The
 * header test checks these declarations against the header.
 */
final class Native {
    /** Where the jar keeps the libraries: {@code /com/bearer/native/linux-x86_64/}. */
    static final String RESOURCE_DIR = "/com/bearer/native/" + platform() + "/";
    static final String LIBRARY_FILE = "libbearer.so";
    static final String SHIM_FILE = "libbearer_jni.so";

    private static volatile boolean loaded;
    private static String failure;

    private Native() {}

    static native byte[] open(byte[] path);

    static native byte[] version();

    static native void globalCleanup();

    static native void testPanic();

    static native long clientNew(byte[] configJson);

    static native byte[] clientToken(long client);

    static native byte[] clientTokenResponse(long client);

    static native byte[] clientAuthorizationHeader(long client);

    /**
     * The problem of a refresh that failed while the cached token was served, with the status that
     * refresh would have returned, or null when none.
     */
    static native BearerException clientTakeRefreshProblem(long client);

    /** Whether the library dropped {@code token}, the cached one, after an API refused it. */
    static native boolean clientTokenRefused(long client, byte[] token);

    static native void clientFree(long client);

    static native byte[] fetchToken(byte[] configJson);

    static native byte[] fetchTokenResponse(byte[] configJson);

    /** {@link #clientTokenRefused} for the one-shot cache of {@code configJson}. */
    static native boolean tokenRefused(byte[] configJson, byte[] token);

    static native byte[] authorizeStart(byte[] configJson);

    static native byte[] authorizeComplete(byte[] configJson, byte[] requestJson, byte[] redirectUrl);

    /** Returns the login handle; the URL to open goes to {@code urlOut[0]}. */
    static native long loginStart(byte[] configJson, byte[][] urlOut);

    /** Blocks the calling thread for up to {@code timeoutMs} (0 for a negative value). */
    static native byte[] loginWait(long login, int timeoutMs);

    static native void loginFree(long login);

    /** Returns the device handle; the JSON of the code to show the user goes to {@code jsonOut[0]}. */
    static native long deviceStart(byte[] configJson, byte[][] jsonOut);

    /** Blocks the calling thread until the user approves or denies, the code expires, or a cancel. */
    static native byte[] devicePoll(long device);

    /** Makes a poll in progress, and every later one, fail with CANCELLED. */
    static native void deviceCancel(long device);

    static native void deviceFree(long device);

    /**
     * Loads the shim and libbearer once per process. A failure is remembered
     * and thrown again on every later call, with the same message, so that
     * the first caller and the hundredth both learn which paths were tried.
     */
    static void load() {
        if (loaded) {
            return;
        }
        synchronized (Native.class) {
            if (loaded) {
                return;
            }
            if (failure != null) {
                throw new UnsatisfiedLinkError(failure);
            }
            try {
                loadShim();
                loadLibrary();
                loaded = true;
            } catch (UnsatisfiedLinkError e) {
                failure = e.getMessage();
                throw e;
            }
        }
    }

    /** UTF-8 bytes from the library as a Java string. */
    static String text(byte[] utf8) {
        return new String(utf8, StandardCharsets.UTF_8);
    }

    private static void loadShim() {
        Path extracted = extract(SHIM_FILE);
        if (extracted != null) {
            try {
                System.load(extracted.toString());
            } finally {
                deleteQuietly(extracted);
            }
            return;
        }
        try {
            System.loadLibrary("bearer_jni");
        } catch (UnsatisfiedLinkError e) {
            throw new UnsatisfiedLinkError("bearer: the JNI shim " + SHIM_FILE + " is neither in the jar ("
                    + RESOURCE_DIR + SHIM_FILE + ") nor on java.library.path: " + e.getMessage());
        }
    }

    /**
     * libbearer.so from, in order: {@code BEARER_LIBRARY}; the copy in the jar;
     * the cargo target folder of the checkout holding this jar
     * ({@code target/release}, then {@code target/debug}). An explicit
     * {@code BEARER_LIBRARY} is the only candidate when set: a wrong path is
     * an error, not a reason to load some other copy.
     */
    private static void loadLibrary() {
        List<String> tried = new ArrayList<>();
        String explicit = System.getenv("BEARER_LIBRARY");
        if (explicit != null && !explicit.isEmpty()) {
            tried.add(explicit + " (BEARER_LIBRARY)");
            if (Files.isRegularFile(Path.of(explicit))) {
                openOrThrow(Path.of(explicit));
                return;
            }
            throw notFound(tried);
        }
        tried.add("jar:" + RESOURCE_DIR + LIBRARY_FILE);
        Path packaged = extract(LIBRARY_FILE);
        if (packaged != null) {
            try {
                openOrThrow(packaged);
            } finally {
                deleteQuietly(packaged);
            }
            return;
        }
        for (Path candidate : checkoutCandidates()) {
            tried.add(candidate.toString());
            if (Files.isRegularFile(candidate)) {
                openOrThrow(candidate);
                return;
            }
        }
        throw notFound(tried);
    }

    private static UnsatisfiedLinkError notFound(List<String> tried) {
        return new UnsatisfiedLinkError("bearer: cannot find " + LIBRARY_FILE + "; tried: "
                + String.join(", ", tried) + ". Set BEARER_LIBRARY to the path of " + LIBRARY_FILE + ".");
    }

    private static void openOrThrow(Path path) {
        byte[] reason = open(path.toString().getBytes(StandardCharsets.UTF_8));
        if (reason != null) {
            throw new UnsatisfiedLinkError("bearer: cannot load " + path + ": " + text(reason));
        }
    }

    /** target/release and target/debug of the first folder above this jar (or classes) holding Cargo.toml. */
    private static List<Path> checkoutCandidates() {
        List<Path> candidates = new ArrayList<>();
        Path start;
        try {
            start = Path.of(Native.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            start = Path.of("").toAbsolutePath();
        }
        for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("Cargo.toml")) && Files.isDirectory(dir.resolve("include"))) {
                candidates.add(dir.resolve("target/release").resolve(LIBRARY_FILE));
                candidates.add(dir.resolve("target/debug").resolve(LIBRARY_FILE));
                break;
            }
        }
        if (candidates.isEmpty()) {
            candidates.add(start.toAbsolutePath().resolve("target/release").resolve(LIBRARY_FILE));
        }
        return candidates;
    }

    /**
     * Copies a library out of the jar into a fresh temporary folder; null when
     * the jar has none. The caller deletes it once loaded (Linux keeps a
     * loaded file mapped); deleteOnExit is the backstop.
     */
    private static Path extract(String file) {
        try (InputStream in = Native.class.getResourceAsStream(RESOURCE_DIR + file)) {
            if (in == null) {
                return null;
            }
            Path dir = Files.createTempDirectory("bearer-native-");
            dir.toFile().deleteOnExit();
            Path target = dir.resolve(file);
            target.toFile().deleteOnExit();
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new UnsatisfiedLinkError("bearer: cannot extract " + RESOURCE_DIR + file
                    + " to a temporary folder: " + e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.getParent());
        } catch (IOException e) {
            // deleteOnExit will try again.
        }
    }

    /** {@code linux-x86_64}, {@code linux-aarch64}: the folder naming the jar uses. */
    static String platform() {
        String os = System.getProperty("os.name", "unknown").toLowerCase(Locale.ROOT).replace(" ", "");
        if (os.startsWith("linux")) {
            os = "linux";
        } else if (os.startsWith("mac")) {
            os = "macos";
        }
        String arch = System.getProperty("os.arch", "unknown").toLowerCase(Locale.ROOT);
        switch (arch) {
            case "amd64":
            case "x86_64":
                arch = "x86_64";
                break;
            case "arm64":
            case "aarch64":
                arch = "aarch64";
                break;
            default:
                break;
        }
        return os + "-" + arch;
    }
}
