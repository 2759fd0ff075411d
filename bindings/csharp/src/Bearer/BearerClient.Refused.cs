using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Bearer
{
    public sealed partial class BearerClient
    {
        /// <summary>
        /// Tells the client that an API refused <paramref name="token"/> (an HTTP 401 with
        /// <c>WWW-Authenticate: Bearer error="invalid_token"</c>, or with no error at all):
        /// compare-and-invalidate. The cached token is dropped (in memory and in a shared
        /// store) only if it is still <paramref name="token"/>, so a late refusal of a token
        /// already replaced does nothing; at most one drop per client every two seconds.
        /// Returns whether it dropped; the next <see cref="GetToken"/> then gets a new token.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="token"/> is null.</exception>
        public bool TokenRefused(string token)
        {
            byte[] native = Utf8.ToNative(token, "token");
            bool dropped;
            IntPtr problem;
            int status = NativeMethods.bearer_client_token_refused(Live(), native, out dropped, out problem);
            Take(status, IntPtr.Zero, problem);
            if (dropped)
            {
                Interlocked.Increment(ref drops);
                Interlocked.Exchange(ref knownFreshUntil, 0);
            }
            return dropped;
        }

        /// <summary><see cref="TokenRefused(string)"/> for the one-shot calls: <paramref name="token"/>,
        /// which <see cref="FetchToken(string)"/> gave for this configuration, was refused.
        /// The process-wide cache (and a shared store named by <c>cache</c>) drops it only if it
        /// is still the current token, at most once every two seconds.</summary>
        public static bool TokenRefused(string configJson, string token)
        {
            return TokenRefused(Utf8.ToNative(configJson, "configJson"), Utf8.ToNative(token, "token"));
        }

        /// <summary><see cref="TokenRefused(string, string)"/> for a configuration map.</summary>
        public static bool TokenRefused(IDictionary<string, object> config, string token)
        {
            return TokenRefused(ConfigToJson(config, "config"), Utf8.ToNative(token, "token"));
        }

        /// <summary><see cref="TokenRefused(string, string)"/> for raw UTF-8 JSON bytes, passed unchanged.</summary>
        public static bool TokenRefused(byte[] utf8ConfigJson, string token)
        {
            return TokenRefused(Utf8.ToNative(utf8ConfigJson, "utf8ConfigJson"), Utf8.ToNative(token, "token"));
        }

        static bool TokenRefused(byte[] nativeConfig, byte[] nativeToken)
        {
            LibraryLoader.EnsureLoaded();
            return TokenRefusedLoaded(nativeConfig, nativeToken);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static bool TokenRefusedLoaded(byte[] nativeConfig, byte[] nativeToken)
        {
            bool dropped;
            IntPtr problem;
            int status = NativeMethods.bearer_token_refused(nativeConfig, nativeToken, out dropped, out problem);
            Take(status, IntPtr.Zero, problem);
            return dropped;
        }

        // ---- a scheduling hint for asynchronous callers -----------------------------------
        //
        // The C ABI has no "is the cached token fresh?" call, and a token call that has to
        // fetch blocks. An asynchronous caller (Bearer.Http.BearerHandler) wants the cheap
        // call inline and the fetch on a worker thread, so the client remembers, from the
        // last token response it read, until when the library certainly serves the cached
        // token without a request: the token's expiry minus more than the library's largest
        // refresh margin (1.5 x min(lifetime / 10, 60 s) = 90 s at most). A drop through
        // TokenRefused forgets it. It is only a hint: when it is wrong (another process
        // dropped the shared entry) the inline call fetches, correctly, just not on a
        // worker thread.

        const long HintMarginSeconds = 95;
        long knownFreshUntil; // Stopwatch timestamp; 0 = unknown
        long drops;           // a read that overlapped a drop renews nothing

        /// <summary>True when the cached token is known to be served without a request.</summary>
        internal bool TokenKnownFresh
        {
            get
            {
                long until = Interlocked.Read(ref knownFreshUntil);
                return until != 0 && Stopwatch.GetTimestamp() < until;
            }
        }

        /// <summary>The token, read through the token response so that the hint is renewed.
        /// Blocking: asynchronous callers run it on a worker thread.</summary>
        internal string GetTokenRenewingHint()
        {
            long start = Stopwatch.GetTimestamp();
            long dropsBefore = Interlocked.Read(ref drops);
            TokenResponse response = GetTokenResponse();
            long seconds = response.ExpiresIn - HintMarginSeconds;
            if (Interlocked.Read(ref drops) == dropsBefore)
                Interlocked.Exchange(ref knownFreshUntil, seconds > 0 ? start + seconds * Stopwatch.Frequency : 0);
            return response.AccessToken;
        }
    }
}
