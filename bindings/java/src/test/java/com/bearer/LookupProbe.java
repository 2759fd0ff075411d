package com.bearer;

/**
 * Run in a child JVM by {@link LookupTest}: loads the library as configured
 * by the environment and prints what happened, twice, to show that a failure
 * is reported the same way on every call.
 */
public final class LookupProbe {
    private LookupProbe() {}

    public static void main(String[] args) {
        for (int i = 0; i < 2; i++) {
            try {
                System.out.println("loaded " + Bearer.version());
            } catch (UnsatisfiedLinkError e) {
                System.out.println("error " + e.getMessage());
            }
        }
    }
}
