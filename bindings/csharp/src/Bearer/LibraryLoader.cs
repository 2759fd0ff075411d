using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace Bearer
{
    /// <summary>
    /// Finds libbearer.so and loads it before the first P/Invoke, in the order every
    /// binding uses: <c>BEARER_LIBRARY</c>; the packaged
    /// <c>runtimes/linux-x64/native/libbearer.so</c> next to Bearer.dll; the cargo
    /// target folder (<c>target/release</c>, then <c>target/debug</c>) of the checkout
    /// that contains the assembly.
    /// <para>
    /// How: the chosen file is dlopen'ed with RTLD_NOW | RTLD_GLOBAL. Its SONAME is
    /// "libbearer.so", the name every [DllImport] uses, so when the runtime later
    /// resolves that name the dynamic loader hands back this copy instead of searching.
    /// This works the same on Mono and .NET; on .NET alone,
    /// NativeLibrary.SetDllImportResolver would be the modern route.
    /// </para>
    /// </summary>
    internal static class LibraryLoader
    {
        internal const string EnvironmentVariable = "BEARER_LIBRARY";
        internal const string FileName = "libbearer.so";
        internal static readonly string PackagedFolder = Path.Combine("runtimes", "linux-x64", "native");

        const int RTLD_NOW = 0x002;
        const int RTLD_GLOBAL = 0x100;

        [DllImport("libdl.so.2", EntryPoint = "dlopen")]
        static extern IntPtr dlopen([MarshalAs(UnmanagedType.LPStr)] string fileName, int flags);

        [DllImport("libdl.so.2", EntryPoint = "dlerror")]
        static extern IntPtr dlerror();

        static readonly object Gate = new object();
        static volatile string loadedPath;
        static Exception failure;

        /// <summary>The file that was loaded, or null before the first call.</summary>
        internal static string LoadedPath { get { return loadedPath; } }

        /// <summary>Loads the library once per process; throws the same clear error on every call if it cannot.</summary>
        internal static void EnsureLoaded()
        {
            if (loadedPath != null) return;
            lock (Gate)
            {
                if (loadedPath != null) return;
                if (failure != null) throw new DllNotFoundException(failure.Message);
                try
                {
                    loadedPath = Load();
                }
                catch (Exception e)
                {
                    failure = e;
                    throw;
                }
            }
        }

        /// <summary>The paths to try, in order. A set BEARER_LIBRARY is the only candidate:
        /// a deliberate choice that is wrong must fail, not silently load another copy.</summary>
        internal static List<string> Candidates()
        {
            var paths = new List<string>();
            string fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrEmpty(fromEnvironment))
            {
                paths.Add(Path.GetFullPath(fromEnvironment));
                return paths;
            }
            string assemblyDir = Path.GetDirectoryName(Path.GetFullPath(typeof(LibraryLoader).Assembly.Location));
            paths.Add(Path.Combine(Path.Combine(assemblyDir, PackagedFolder), FileName));
            string checkout = FindCheckout(assemblyDir);
            if (checkout != null)
            {
                paths.Add(Path.Combine(Path.Combine(Path.Combine(checkout, "target"), "release"), FileName));
                paths.Add(Path.Combine(Path.Combine(Path.Combine(checkout, "target"), "debug"), FileName));
            }
            return paths;
        }

        /// <summary>The nearest folder above the assembly holding the library's Cargo.toml and include/bearer.h.</summary>
        static string FindCheckout(string start)
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Cargo.toml"))
                    && File.Exists(Path.Combine(Path.Combine(dir.FullName, "include"), "bearer.h")))
                    return dir.FullName;
            }
            return null;
        }

        static string Load()
        {
            List<string> candidates = Candidates();
            bool fromEnvironment = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(EnvironmentVariable));
            foreach (string path in candidates)
            {
                if (!File.Exists(path)) continue;
                if (dlopen(path, RTLD_NOW | RTLD_GLOBAL) == IntPtr.Zero)
                {
                    string reason = Utf8.FromNative(dlerror()) ?? "unknown dlopen error";
                    throw new DllNotFoundException("bearer: cannot load " + path + ": " + reason);
                }
                return path;
            }
            string tried = string.Join(", ", candidates.ToArray());
            throw new DllNotFoundException(fromEnvironment
                ? "bearer: " + EnvironmentVariable + " names a file that does not exist: " + tried
                : "bearer: libbearer.so not found; tried " + tried
                  + ". Build it with `cargo build --release` or set " + EnvironmentVariable + " to its path.");
        }
    }
}
