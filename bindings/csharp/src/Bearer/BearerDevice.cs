using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace Bearer
{
    /// <summary>
    /// A sign-in without a browser on this machine, the device authorization grant
    /// (RFC 8628): <see cref="Start(string)"/> asks the server for a code, the user enters
    /// <see cref="UserCode"/> at <see cref="VerificationUri"/> on another device, and
    /// <see cref="Poll"/> waits (polling the token endpoint every <see cref="Interval"/>
    /// seconds) until they approve.
    /// <para>
    /// The device code itself never leaves the native handle. The handle is a SafeHandle:
    /// <see cref="Dispose"/> cancels a poll still running on another thread, and the handle
    /// is freed once that poll has returned, never under it.
    /// </para>
    /// </summary>
    public sealed class BearerDevice : IDisposable
    {
        readonly BearerDeviceHandle handle;
        int polling;

        /// <summary>The code the user enters, e.g. "ABCD-EFGH".</summary>
        public string UserCode { get; private set; }
        /// <summary>Where the user enters it.</summary>
        public string VerificationUri { get; private set; }
        /// <summary>A URL with the code already in it (for a QR code, or a link), or null when the server gave none.</summary>
        public string VerificationUriComplete { get; private set; }
        /// <summary>Seconds the codes are valid, counted from <see cref="Start(string)"/>.</summary>
        public long ExpiresIn { get; private set; }
        /// <summary>Seconds between two polls of the token endpoint (a <c>slow_down</c> adds 5).</summary>
        public long Interval { get; private set; }

        BearerDevice(BearerDeviceHandle handle, string json)
        {
            this.handle = handle;
            Dictionary<string, object> shown = Json.ParseObject(json);
            UserCode = Str(shown, "user_code");
            VerificationUri = Str(shown, "verification_uri");
            VerificationUriComplete = Str(shown, "verification_uri_complete");
            ExpiresIn = Num(shown, "expires_in");
            Interval = Num(shown, "interval");
        }

        /// <summary>
        /// Starts the device flow for a configuration with <c>client_id</c>,
        /// <c>device_authorization_url</c> (or an <c>issuer</c> whose discovery document names
        /// one), <c>token_url</c> and usually <c>audience</c> and <c>scope</c>;
        /// <c>grant_type</c> <c>device_code</c> is implied. One request, to the device
        /// authorization endpoint.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="configJson"/> is null.</exception>
        /// <exception cref="BearerException">The library refused the configuration, or the server the request.</exception>
        public static BearerDevice Start(string configJson)
        {
            byte[] native = Utf8.ToNative(configJson, "configJson");
            LibraryLoader.EnsureLoaded();
            return StartLoaded(native);
        }

        /// <summary><see cref="Start(string)"/> for a configuration map.</summary>
        public static BearerDevice Start(IDictionary<string, object> config)
        {
            if (config == null) throw new ArgumentNullException("config");
            return Start(Json.Write(config));
        }

        // Loading rule (see BearerClient): the P/Invoke sits in a NoInlining method that runs
        // only after EnsureLoaded. Poll and Cancel need no such step: a device sign-in exists
        // only once Start has loaded the library.
        [MethodImpl(MethodImplOptions.NoInlining)]
        static BearerDevice StartLoaded(byte[] nativeConfig)
        {
            BearerDeviceHandle created;
            IntPtr json, problem;
            int status = NativeMethods.bearer_device_start(nativeConfig, out created, out json, out problem);
            try
            {
                return new BearerDevice(created, BearerClient.Take(status, json, problem)); // throws the problem on failure
            }
            catch
            {
                created.Dispose(); // empty on failure: disposing it is harmless
                throw;
            }
        }

        /// <summary>
        /// Blocks the calling thread, polling the token endpoint, until the user approves, then
        /// returns the tokens (with a <see cref="TokenResponse.RefreshToken"/> when the scope
        /// asked for <c>offline_access</c>). One poll at a time.
        /// </summary>
        /// <exception cref="OperationCanceledException"><see cref="Cancel"/> (or disposing) ended the
        /// poll, or came before it; its <see cref="Exception.InnerException"/> is the library's
        /// <c>cancelled</c> problem (<see cref="BearerStatus.Cancelled"/>).</exception>
        /// <exception cref="BearerException">The user declined (<c>authorization-denied</c>), the code
        /// expired (<c>device-code-expired</c>), both <see cref="BearerStatus.Rejected"/>; or a token
        /// endpoint problem.</exception>
        /// <exception cref="InvalidOperationException">Another poll of this sign-in is running.</exception>
        /// <exception cref="ObjectDisposedException">The sign-in was disposed.</exception>
        public TokenResponse Poll()
        {
            BearerDeviceHandle live = Live();
            if (Interlocked.CompareExchange(ref polling, 1, 0) != 0)
                throw new InvalidOperationException("Another poll of this device sign-in is running.");
            try
            {
                IntPtr value, problem;
                int status = NativeMethods.bearer_device_poll(live, out value, out problem);
                try
                {
                    return TokenResponse.Parse(BearerClient.Take(status, value, problem));
                }
                catch (BearerException e) when (e.Code == BearerStatus.Cancelled)
                {
                    throw new OperationCanceledException(e.Message, e);
                }
            }
            finally
            {
                Volatile.Write(ref polling, 0);
            }
        }

        /// <summary>
        /// <see cref="Poll"/> without blocking the caller: the poll runs on a thread of its own
        /// (a sign-in may take minutes, so not a pool thread). Cancelling
        /// <paramref name="cancellationToken"/> calls <see cref="Cancel"/>: the native poll
        /// returns at once and the task ends as cancelled. As with <see cref="Cancel"/>, the
        /// sign-in stays cancelled: start a new one to try again.
        /// </summary>
        public Task<TokenResponse> PollAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            Live();
            if (cancellationToken.IsCancellationRequested)
            {
                Cancel();
                return Task.FromCanceled<TokenResponse>(cancellationToken);
            }
            CancellationTokenRegistration registration = cancellationToken.Register(Cancel);
            Task<TokenResponse> work = Task.Factory.StartNew(() =>
            {
                try
                {
                    return Poll();
                }
                catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
                {
                    // With the caller's token, so the task ends Canceled rather than Faulted.
                    throw new OperationCanceledException(e.Message, e.InnerException, cancellationToken);
                }
            }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            // Also when the token is cancelled before the task starts (then the poll never runs).
            work.ContinueWith(t => registration.Dispose(), TaskContinuationOptions.ExecuteSynchronously);
            return work;
        }

        /// <summary>
        /// Makes a poll in progress on another thread end at once with
        /// <see cref="OperationCanceledException"/>, and every later poll too. Any thread may
        /// call it; on a disposed sign-in it does nothing.
        /// </summary>
        public void Cancel()
        {
            if (handle.IsClosed) return;
            try
            {
                NativeMethods.bearer_device_cancel(handle);
            }
            catch (ObjectDisposedException)
            {
                // Disposed between the check and the call: nothing left to cancel.
            }
        }

        /// <summary>Cancels a poll still running, then frees the sign-in (once that poll has
        /// returned). Calling it again does nothing.</summary>
        public void Dispose()
        {
            Cancel();
            handle.Dispose();
        }

        /// <summary>Same as <see cref="Dispose"/>, for code that says close.</summary>
        public void Close()
        {
            Dispose();
        }

        /// <summary>True once disposed.</summary>
        public bool IsDisposed { get { return handle.IsClosed; } }

        /// <summary>The codes to show are not secret; the device code is never in managed memory.</summary>
        public override string ToString()
        {
            return "BearerDevice(" + (IsDisposed ? "disposed" : "user_code=" + UserCode + ", verification_uri=" + VerificationUri) + ")";
        }

        BearerDeviceHandle Live()
        {
            if (handle.IsClosed) throw new ObjectDisposedException("BearerDevice", "The device sign-in was disposed.");
            return handle;
        }

        static string Str(Dictionary<string, object> obj, string key)
        {
            object value;
            return obj.TryGetValue(key, out value) ? value as string : null;
        }

        static long Num(Dictionary<string, object> obj, string key)
        {
            object value;
            return obj.TryGetValue(key, out value) && value is long ? (long)value : 0;
        }
    }
}
