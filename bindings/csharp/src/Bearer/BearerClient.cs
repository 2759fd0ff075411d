using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Bearer
{
    /// <summary>
    /// One configuration and its cached token. Keep one per credentials for the life of
    /// the program: the library reuses the token until shortly before it expires, and
    /// any number of threads may share the client (concurrent callers of an expired
    /// token share one request). Dispose frees the native client; using it afterwards
    /// throws <see cref="ObjectDisposedException"/>.
    /// <para>
    /// The one-shot <see cref="FetchToken(string)"/> family lives here as static methods
    /// (a type named like its namespace, <c>Bearer.Bearer</c>, would not resolve after
    /// <c>using Bearer;</c>); it shares a process-wide cache.
    /// </para>
    /// </summary>
    public sealed partial class BearerClient : IDisposable
    {
        readonly BearerClientHandle handle;

        /// <summary>Builds a client from the seed's credentials JSON (Auth0 or Cobuilder shape).
        /// No request is made until a token is asked for.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="configJson"/> is null.</exception>
        /// <exception cref="ArgumentException">It contains NUL or a lone surrogate.</exception>
        /// <exception cref="BearerException">The library refused the configuration.</exception>
        public BearerClient(string configJson) : this(Utf8.ToNative(configJson, "configJson"), true) { }

        /// <summary>Builds a client from a configuration map, serialised to JSON as is.</summary>
        public BearerClient(IDictionary<string, object> config) : this(ConfigToJson(config, "config"), true) { }

        /// <summary>Builds a client from raw UTF-8 JSON bytes (e.g. File.ReadAllBytes), passed unchanged:
        /// invalid UTF-8 comes back as the library's invalid-argument problem.</summary>
        public BearerClient(byte[] utf8ConfigJson) : this(Utf8.ToNative(utf8ConfigJson, "utf8ConfigJson"), true) { }

        // nativeConfig is already NUL-terminated; the flag only tells this overload apart.
        BearerClient(byte[] nativeConfig, bool terminated)
        {
            LibraryLoader.EnsureLoaded();
            handle = NewHandle(nativeConfig);
        }

        // Loading rule: Mono binds a P/Invoke when it compiles the method that calls it,
        // so every method below that calls NativeMethods runs only after EnsureLoaded
        // returned in its caller, and is NoInlining so it is compiled no earlier.

        [MethodImpl(MethodImplOptions.NoInlining)]
        static BearerClientHandle NewHandle(byte[] nativeConfig)
        {
            IntPtr problem;
            BearerClientHandle created;
            int status = NativeMethods.bearer_client_new(nativeConfig, out created, out problem);
            if (status != (int)BearerStatus.Ok)
            {
                created.Dispose();
                Take(status, IntPtr.Zero, problem);
            }
            return created;
        }

        /// <summary>A valid access token: the cached one while fresh, else a new one.</summary>
        public string GetToken()
        {
            IntPtr value, problem;
            int status = NativeMethods.bearer_client_token(Live(), out value, out problem);
            return Take(status, value, problem);
        }

        /// <summary>The whole token response (type, lifetime, scope) for a valid token.</summary>
        public TokenResponse GetTokenResponse()
        {
            IntPtr value, problem;
            int status = NativeMethods.bearer_client_token_response(Live(), out value, out problem);
            return TokenResponse.Parse(Take(status, value, problem));
        }

        /// <summary>The <c>Authorization</c> header value, e.g. "Bearer eyJ...".</summary>
        public string GetAuthorizationHeader()
        {
            IntPtr value, problem;
            int status = NativeMethods.bearer_client_authorization_header(Live(), out value, out problem);
            return Take(status, value, problem);
        }

        /// <summary>
        /// Why the last refresh failed while the cached token was served, or null when
        /// nothing failed. A token due for refresh but still valid is returned by
        /// <see cref="GetToken"/> even when its refresh fails (serve-stale); the failure is
        /// kept here, once per run of failures. The exception is returned, not thrown; its
        /// <c>Extensions</c> carry <c>serving_cached_token_until</c> (unix seconds) and its
        /// <c>Code</c> is the status the failed refresh would have returned (e.g.
        /// <see cref="BearerStatus.Unavailable"/>).
        /// </summary>
        public BearerException TakeRefreshProblem()
        {
            IntPtr value, problem;
            int refreshStatus;
            int status = NativeMethods.bearer_client_take_refresh_problem(Live(), out refreshStatus, out value, out problem);
            string json = Take(status, value, problem);
            return json == null ? null : BearerException.FromProblem((BearerStatus)refreshStatus, json);
        }

        /// <summary>
        /// <see cref="GetToken"/> without blocking the calling thread. The native call is
        /// blocking, so it runs on a thread-pool thread (Task.Run); cancelling completes the
        /// returned task at once, while the request already under way finishes in the
        /// background and still fills the cache. Disposing meanwhile is safe: the handle is
        /// freed when that call returns.
        /// </summary>
        public Task<string> GetTokenAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            Live();
            return RunAsync(GetToken, cancellationToken);
        }

        /// <summary><see cref="GetTokenResponse"/> on a thread-pool thread; see <see cref="GetTokenAsync"/>.</summary>
        public Task<TokenResponse> GetTokenResponseAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            Live();
            return RunAsync(GetTokenResponse, cancellationToken);
        }

        /// <summary><see cref="GetAuthorizationHeader"/> on a thread-pool thread; see <see cref="GetTokenAsync"/>.</summary>
        public Task<string> GetAuthorizationHeaderAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            Live();
            return RunAsync(GetAuthorizationHeader, cancellationToken);
        }

        /// <summary>Frees the native client. Calling it again does nothing.</summary>
        public void Dispose()
        {
            if (handle != null) handle.Dispose();
        }

        /// <summary>Same as <see cref="Dispose"/>, for code that says close.</summary>
        public void Close()
        {
            Dispose();
        }

        /// <summary>True once disposed.</summary>
        public bool IsDisposed { get { return handle == null || handle.IsClosed; } }

        // ---- one-shot calls and library facts -------------------------------------

        /// <summary>A token for this configuration, from the process-wide cache when it holds a fresh one.</summary>
        public static string FetchToken(string configJson)
        {
            return FetchToken(Utf8.ToNative(configJson, "configJson"), true);
        }

        /// <summary><see cref="FetchToken(string)"/> for a configuration map.</summary>
        public static string FetchToken(IDictionary<string, object> config)
        {
            return FetchToken(ConfigToJson(config, "config"), true);
        }

        /// <summary><see cref="FetchToken(string)"/> for raw UTF-8 JSON bytes, passed unchanged.</summary>
        public static string FetchToken(byte[] utf8ConfigJson)
        {
            return FetchToken(Utf8.ToNative(utf8ConfigJson, "utf8ConfigJson"), true);
        }

        /// <summary>The whole token response for this configuration (process-wide cache).</summary>
        public static TokenResponse FetchTokenResponse(string configJson)
        {
            return FetchTokenResponse(Utf8.ToNative(configJson, "configJson"), true);
        }

        /// <summary><see cref="FetchTokenResponse(string)"/> for a configuration map.</summary>
        public static TokenResponse FetchTokenResponse(IDictionary<string, object> config)
        {
            return FetchTokenResponse(ConfigToJson(config, "config"), true);
        }

        /// <summary><see cref="FetchTokenResponse(string)"/> for raw UTF-8 JSON bytes, passed unchanged.</summary>
        public static TokenResponse FetchTokenResponse(byte[] utf8ConfigJson)
        {
            return FetchTokenResponse(Utf8.ToNative(utf8ConfigJson, "utf8ConfigJson"), true);
        }

        /// <summary><see cref="FetchToken(string)"/> on a thread-pool thread; see <see cref="GetTokenAsync"/>.</summary>
        public static Task<string> FetchTokenAsync(string configJson, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] native = Utf8.ToNative(configJson, "configJson");
            return RunAsync(() => FetchToken(native, true), cancellationToken);
        }

        /// <summary>The version of the loaded library, e.g. "0.1.0".</summary>
        public static string Version
        {
            get
            {
                LibraryLoader.EnsureLoaded();
                return VersionLoaded();
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static string VersionLoaded()
        {
            return Utf8.FromNative(NativeMethods.bearer_version()); // static: never freed
        }

        /// <summary>The path libbearer.so was loaded from (loads it if needed).</summary>
        public static string LibraryPath
        {
            get
            {
                LibraryLoader.EnsureLoaded();
                return LibraryLoader.LoadedPath;
            }
        }

        /// <summary>Empties the one-shot cache and closes pooled connections; clients keep working.
        /// Optional, e.g. before exit under a leak checker.</summary>
        public static void GlobalCleanup()
        {
            LibraryLoader.EnsureLoaded();
            GlobalCleanupLoaded();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static void GlobalCleanupLoaded()
        {
            NativeMethods.bearer_global_cleanup();
        }

        // ---- plumbing -------------------------------------------------------------

        static string FetchToken(byte[] nativeConfig, bool terminated)
        {
            LibraryLoader.EnsureLoaded();
            return FetchTokenLoaded(nativeConfig);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static string FetchTokenLoaded(byte[] nativeConfig)
        {
            IntPtr value, problem;
            int status = NativeMethods.bearer_fetch_token(nativeConfig, out value, out problem);
            return Take(status, value, problem);
        }

        static TokenResponse FetchTokenResponse(byte[] nativeConfig, bool terminated)
        {
            LibraryLoader.EnsureLoaded();
            return FetchTokenResponseLoaded(nativeConfig);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static TokenResponse FetchTokenResponseLoaded(byte[] nativeConfig)
        {
            IntPtr value, problem;
            int status = NativeMethods.bearer_fetch_token_response(nativeConfig, out value, out problem);
            return TokenResponse.Parse(Take(status, value, problem));
        }

        static byte[] ConfigToJson(IDictionary<string, object> config, string paramName)
        {
            if (config == null) throw new ArgumentNullException(paramName);
            return Utf8.ToNative(Json.Write(config), paramName);
        }

        BearerClientHandle Live()
        {
            if (handle.IsClosed) throw new ObjectDisposedException("BearerClient", "The client was disposed.");
            return handle;
        }

        /// <summary>Copies the result or the problem and frees both library strings, whatever happens.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static string Take(int status, IntPtr value, IntPtr problem)
        {
            try
            {
                if (status == (int)BearerStatus.Ok) return Utf8.FromNative(value);
                throw BearerException.FromProblem((BearerStatus)status, Utf8.FromNative(problem));
            }
            finally
            {
                NativeMethods.bearer_string_free(value);
                NativeMethods.bearer_string_free(problem);
            }
        }

        /// <summary>Raises the library's deliberate panic, to test the INTERNAL path.</summary>
        internal static void TestPanic()
        {
            LibraryLoader.EnsureLoaded();
            TestPanicLoaded();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static void TestPanicLoaded()
        {
            IntPtr problem;
            int status = NativeMethods.bearer_test_panic(out problem);
            Take(status, IntPtr.Zero, problem);
        }

        /// <summary>Runs a blocking native call off the caller's thread. <paramref name="longRunning"/>
        /// gives it a thread of its own instead of a pool thread (a login may wait minutes).</summary>
        internal static Task<T> RunAsync<T>(Func<T> call, CancellationToken cancellationToken, bool longRunning = false)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task<T> work = longRunning
                ? Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                : Task.Run(call);
            if (!cancellationToken.CanBeCanceled) return work;
            var completion = new TaskCompletionSource<T>();
            CancellationTokenRegistration registration =
                cancellationToken.Register(() => completion.TrySetCanceled());
            work.ContinueWith(t =>
            {
                registration.Dispose();
                if (t.IsFaulted) completion.TrySetException(t.Exception.InnerExceptions);
                else if (t.IsCanceled) completion.TrySetCanceled();
                else completion.TrySetResult(t.Result);
            }, TaskContinuationOptions.ExecuteSynchronously);
            return completion.Task;
        }
    }
}
