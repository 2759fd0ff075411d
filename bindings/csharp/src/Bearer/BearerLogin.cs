using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Bearer
{
    /// <summary>
    /// A native app's or a script's sign-in (RFC 8252): the library listens on 127.0.0.1
    /// (an ephemeral port unless the configuration's <c>redirect_uri</c> names one), the
    /// user opens <see cref="Url"/> in a browser, and <see cref="Wait"/> takes the one
    /// redirect, answers the browser with a short page and exchanges the code (PKCE).
    /// <para>
    /// Dispose closes the listener. The handle is a SafeHandle, so it is freed exactly
    /// once (Dispose or finalizer) and never while a <see cref="Wait"/> on another thread
    /// is still running: disposing during a wait frees it when that wait returns.
    /// </para>
    /// </summary>
    public sealed class BearerLogin : IDisposable
    {
        readonly BearerLoginHandle handle;

        /// <summary>The authorize URL to open in the user's browser. It redirects to this login's listener.</summary>
        public string Url { get; private set; }

        BearerLogin(BearerLoginHandle handle, string url)
        {
            this.handle = handle;
            Url = url;
        }

        /// <summary>
        /// Starts listening and builds the authorize URL from a configuration with
        /// <c>client_id</c>, <c>authorize_url</c> and <c>token_url</c> (or <c>issuer</c>);
        /// <c>grant_type</c> <c>authorization_code</c> is implied and <c>redirect_uri</c> is
        /// optional (an <c>http://127.0.0.1:PORT/path</c> one fixes the port and path).
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="configJson"/> is null.</exception>
        /// <exception cref="BearerException">The library refused the configuration or could not listen.</exception>
        public static BearerLogin Start(string configJson)
        {
            byte[] native = Utf8.ToNative(configJson, "configJson");
            LibraryLoader.EnsureLoaded();
            return StartLoaded(native);
        }

        /// <summary><see cref="Start(string)"/> for a configuration map.</summary>
        public static BearerLogin Start(IDictionary<string, object> config)
        {
            if (config == null) throw new ArgumentNullException("config");
            return Start(Json.Write(config));
        }

        // Loading rule (see BearerClient): the P/Invoke sits in a NoInlining method that
        // runs only after EnsureLoaded. Wait needs no such step: a login exists only once
        // Start has loaded the library.
        [MethodImpl(MethodImplOptions.NoInlining)]
        static BearerLogin StartLoaded(byte[] nativeConfig)
        {
            BearerLoginHandle created;
            IntPtr url, problem;
            int status = NativeMethods.bearer_login_start(nativeConfig, out created, out url, out problem);
            string text;
            try
            {
                text = BearerClient.Take(status, url, problem); // throws the problem on failure
            }
            catch
            {
                created.Dispose(); // nothing to free on failure; disposing the empty handle is harmless
                throw;
            }
            return new BearerLogin(created, text);
        }

        /// <summary>
        /// Blocks the calling thread until the browser comes back (or <paramref name="timeout"/>
        /// passes), then returns the tokens. A request without this login's state (forged, stale)
        /// gets a 400 and the wait goes on. A login completes once: waiting again is the
        /// library's invalid-argument problem (code 1).
        /// </summary>
        /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits about 49 days,
        /// the longest the C call takes.</param>
        /// <exception cref="BearerException">timeout (code 6), invalid-callback (a redirect with
        /// this login's state but no code, code 1), authorization-denied or invalid-grant (code 3),
        /// or a token endpoint problem.</exception>
        /// <exception cref="ObjectDisposedException">The login was disposed.</exception>
        public TokenResponse Wait(TimeSpan timeout)
        {
            uint ms = Milliseconds(timeout);
            IntPtr value, problem;
            int status = NativeMethods.bearer_login_wait(Live(), ms, out value, out problem);
            return TokenResponse.Parse(BearerClient.Take(status, value, problem));
        }

        /// <summary>
        /// <see cref="Wait"/> without blocking the caller: the wait runs on a thread of its own
        /// (it may take minutes, so not a pool thread). Cancelling completes the task at once
        /// as cancelled; dispose the login too, which closes the listener once the native
        /// wait has returned (at the latest after <paramref name="timeout"/>).
        /// </summary>
        public Task<TokenResponse> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default(CancellationToken))
        {
            Milliseconds(timeout);
            Live();
            return BearerClient.RunAsync(() => Wait(timeout), cancellationToken, true);
        }

        /// <summary>Closes the listener and frees the login. Calling it again does nothing.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        /// <summary>Same as <see cref="Dispose"/>, for code that says close.</summary>
        public void Close()
        {
            Dispose();
        }

        /// <summary>True once disposed.</summary>
        public bool IsDisposed { get { return handle.IsClosed; } }

        /// <summary>The state only: the URL carries the sign-in's state and nonce.</summary>
        public override string ToString()
        {
            return "BearerLogin(" + (IsDisposed ? "disposed" : "listening") + ")";
        }

        BearerLoginHandle Live()
        {
            if (handle.IsClosed) throw new ObjectDisposedException("BearerLogin", "The login was disposed.");
            return handle;
        }

        static uint Milliseconds(TimeSpan timeout)
        {
            if (timeout == Timeout.InfiniteTimeSpan) return uint.MaxValue;
            if (timeout < TimeSpan.Zero)
                throw new ArgumentOutOfRangeException("timeout", "The timeout is negative.");
            double ms = Math.Ceiling(timeout.TotalMilliseconds);
            return ms >= uint.MaxValue ? uint.MaxValue : (uint)ms;
        }
    }
}
