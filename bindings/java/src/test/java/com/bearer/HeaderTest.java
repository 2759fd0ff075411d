package com.bearer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The binding against {@code include/bearer.h}: status numbers, and every
 * function with its parameters, as the Java natives and the C shim declare
 * them. A new, removed or changed function fails here.
 */
class HeaderTest {
    private static final Pattern FUNCTION = Pattern.compile(
            "^((?:const\\s+)?\\w+(?:\\s*\\*)*)\\s*(bearer_\\w+)\\s*\\(([^)]*)\\);", Pattern.MULTILINE);
    private static final Pattern HANDLE = Pattern.compile("(const )?bearer_(client|login|device) \\*");
    private static final Pattern HANDLE_OUT = Pattern.compile("bearer_(client|login|device) \\*\\*");
    private static final Pattern STATUS = Pattern.compile("BEARER_STATUS_(\\w+)\\s*=\\s*(\\d+)");

    /** A C function as the header declares it. */
    private static final class CFunction {
        final String returns;
        final String name;
        final List<String[]> params = new ArrayList<>(); // {type, name}

        CFunction(String returns, String name, String params) {
            this.returns = normalize(returns);
            this.name = name;
            for (String param : params.split(",")) {
                String p = normalize(param);
                if (p.equals("void") || p.isEmpty()) {
                    continue;
                }
                Matcher m = Pattern.compile("^(.*?)(\\w+)$").matcher(p);
                assertTrue(m.matches(), "cannot read parameter '" + p + "' of " + name);
                this.params.add(new String[] {normalize(m.group(1)), m.group(2)});
            }
        }

        @Override
        public String toString() {
            return returns + " " + name + "(" + params.stream().map(p -> p[0] + " " + p[1])
                    .collect(Collectors.joining(", ")) + ")";
        }
    }

    private static String normalize(String c) {
        return c.replaceAll("\\s+", " ").replaceAll("\\s*\\*", " *").replace("* *", "**").trim();
    }

    private static String header() throws Exception {
        return Files.readString(AuthServer.root().resolve("include/bearer.h"));
    }

    private static List<CFunction> functions() throws Exception {
        List<CFunction> functions = new ArrayList<>();
        Matcher m = FUNCTION.matcher(header());
        while (m.find()) {
            functions.add(new CFunction(m.group(1), m.group(2), m.group(3)));
        }
        assertFalse(functions.isEmpty(), "no functions found in bearer.h");
        return functions;
    }

    /** bearer_client_token_response -> clientTokenResponse */
    private static String javaName(String cName) {
        String[] parts = cName.substring("bearer_".length()).split("_");
        StringBuilder out = new StringBuilder(parts[0]);
        for (int i = 1; i < parts.length; i++) {
            out.append(Character.toUpperCase(parts[i].charAt(0))).append(parts[i].substring(1));
        }
        return out.toString();
    }

    /**
     * The Java native a C function maps to, as "return name(params)": inputs
     * {@code const char *} are UTF-8 {@code byte[]}, handle pointers
     * ({@code bearer_client}, {@code bearer_login}, {@code bearer_device}) are {@code long}, an
     * {@code unsigned int} is an {@code int}; the first out parameter becomes
     * the return value (a {@code bool *} a {@code boolean}), a further {@code char **} out a {@code byte[][]} of
     * length 1; {@code problem_out} becomes the thrown BearerException. A
     * first out {@code bearer_status *} and the {@code char **} out after it
     * become a returned BearerException (null when that string is NULL).
     */
    private static String expectedJava(CFunction f) {
        String returns;
        switch (f.returns) {
            case "void": returns = "void"; break;
            case "const char *": returns = "byte[]"; break;
            case "bearer_status": returns = "void"; break;
            default: return "unmapped return type " + f.returns;
        }
        boolean returnTaken = !returns.equals("void");
        boolean statusTaken = false;
        List<String> params = new ArrayList<>();
        for (String[] p : f.params) {
            String type = p[0];
            String name = p[1];
            boolean out = name.endsWith("_out");
            if (type.equals("const char *")) {
                params.add("byte[]");
            } else if (HANDLE.matcher(type).matches()) {
                params.add("long");
            } else if (type.equals("unsigned int")) {
                params.add("int");
            } else if (type.equals("char **") && name.equals("problem_out")) {
                assertEquals("bearer_status", f.returns, f + ": problem_out without a status");
            } else if (type.equals("bearer_status *") && out && !returnTaken) {
                returns = "BearerException";
                returnTaken = true;
                statusTaken = true;
            } else if (type.equals("bool *") && out && !returnTaken) {
                returns = "boolean";
                returnTaken = true;
            } else if (type.equals("char **") && out && statusTaken) {
                statusTaken = false; // its problem JSON, joined to the status
            } else if (type.equals("char **") && out && !returnTaken) {
                returns = "byte[]";
                returnTaken = true;
            } else if (type.equals("char **") && out) {
                params.add("byte[][]");
            } else if (HANDLE_OUT.matcher(type).matches() && out && !returnTaken) {
                returns = "long";
                returnTaken = true;
            } else {
                return "unmapped parameter " + type + " " + name;
            }
        }
        if (statusTaken) {
            return "a bearer_status * out without its char ** out";
        }
        return returns + " " + javaName(f.name) + "(" + String.join(", ", params) + ")";
    }

    private static String describe(Method m) {
        return m.getReturnType().getSimpleName() + " " + m.getName() + "("
                + Arrays.stream(m.getParameterTypes()).map(Class::getSimpleName).collect(Collectors.joining(", "))
                + ")";
    }

    @Test
    void statusNumbersMatch() throws Exception {
        Map<String, Integer> header = new TreeMap<>();
        Matcher m = STATUS.matcher(header());
        while (m.find()) {
            header.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        Map<String, Integer> java = new TreeMap<>();
        for (BearerStatus status : BearerStatus.values()) {
            java.put(status.name(), status.code());
            assertEquals(status, BearerStatus.fromCode(status.code()));
        }
        assertEquals(10, header.size(), "statuses in the header: " + header);
        assertEquals(header, java);
    }

    /** Every opaque type of the header is a handle the binding maps to a long and frees. */
    @Test
    void opaqueTypesAreKnownHandles() throws Exception {
        Matcher m = Pattern.compile("typedef struct (bearer_\\w+) (bearer_\\w+);").matcher(header());
        List<String> types = new ArrayList<>();
        while (m.find()) {
            assertEquals(m.group(1), m.group(2));
            types.add(m.group(1));
            assertTrue(HANDLE.matcher(m.group(1) + " *").matches(), m.group(1) + " is not mapped to a handle");
        }
        assertEquals(List.of("bearer_client", "bearer_device", "bearer_login"), types);
        List<String> frees = functions().stream().map(f -> f.toString())
                .filter(f -> f.matches("void bearer_\\w+_free\\(bearer_\\w+ \\* \\w+\\)"))
                .collect(Collectors.toList());
        assertEquals(List.of("void bearer_client_free(bearer_client * client)",
                "void bearer_device_free(bearer_device * device)",
                "void bearer_login_free(bearer_login * login)"), frees);
    }

    @Test
    void javaNativesMatchFunctions() throws Exception {
        Map<String, String> expected = new TreeMap<>();
        for (CFunction f : functions()) {
            if (f.name.equals("bearer_string_free")) {
                // Only the shim frees strings; Java never holds a library pointer.
                assertEquals("void bearer_string_free(char * text)", f.toString());
                continue;
            }
            expected.put(javaName(f.name), expectedJava(f));
        }
        Map<String, String> actual = new TreeMap<>();
        for (Method m : Native.class.getDeclaredMethods()) {
            if (Modifier.isNative(m.getModifiers()) && !m.getName().equals("open")) {
                actual.put(m.getName(), describe(m));
            }
        }
        assertEquals(expected, actual);
    }

    @Test
    void shimResolvesEveryFunction() throws Exception {
        String shim = Files.readString(Path.of("src/main/c/bearer_jni.c"));
        Map<String, Boolean> missing = new LinkedHashMap<>();
        for (CFunction f : functions()) {
            String bare = f.name.substring("bearer_".length());
            String pointer = "static __typeof__(" + f.name + ") *p_" + bare + ";";
            if (!shim.contains(pointer)) {
                missing.put(pointer, true);
            }
            if (!shim.contains("SYMBOL(" + bare + ")")) {
                missing.put("SYMBOL(" + bare + ")", true);
            }
            if (!f.name.equals("bearer_string_free")
                    && !shim.contains("Java_com_bearer_Native_" + javaName(f.name) + "(")) {
                missing.put("Java_com_bearer_Native_" + javaName(f.name), true);
            }
        }
        if (!missing.isEmpty()) {
            fail("bearer_jni.c lacks: " + missing.keySet());
        }
        Matcher pointers = Pattern.compile("__typeof__\\((bearer_\\w+)\\)").matcher(shim);
        List<String> names = functions().stream().map(f -> f.name).collect(Collectors.toList());
        while (pointers.find()) {
            assertTrue(names.contains(pointers.group(1)), "the shim declares " + pointers.group(1)
                    + ", which the header lacks");
        }
    }
}
