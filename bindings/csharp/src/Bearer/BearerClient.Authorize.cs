using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace Bearer
{
    // The web-app sign-in (authorization code with PKCE, or implicit): two calls around the
    // browser's round trip. Everything about the flow happens in the library; these only marshal.
    public sealed partial class BearerClient
    {
        /// <summary>
        /// Starts a sign-in for a configuration whose <c>grant_type</c> is
        /// <c>authorization_code</c> (PKCE S256) or <c>implicit</c>, with its <c>redirect_uri</c>
        /// and <c>authorize_url</c>. No request is made (unless the configuration names an
        /// <c>issuer</c> whose discovery document is not read yet).
        /// </summary>
        /// <returns>The request: send the browser to its <see cref="AuthorizationRequest.Url"/>, keep the rest.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="configJson"/> is null.</exception>
        /// <exception cref="BearerException">The library refused the configuration (code 2).</exception>
        public static AuthorizationRequest AuthorizeStart(string configJson)
        {
            return AuthorizeStart(Utf8.ToNative(configJson, "configJson"), true);
        }

        /// <summary><see cref="AuthorizeStart(string)"/> for a configuration map.</summary>
        public static AuthorizationRequest AuthorizeStart(IDictionary<string, object> config)
        {
            return AuthorizeStart(ConfigToJson(config, "config"), true);
        }

        /// <summary>
        /// Finishes a sign-in from the full URL the browser was redirected to: the library
        /// checks that it is the request's redirect URI and carries its state, then exchanges
        /// the code (or reads the implicit token from the fragment).
        /// </summary>
        /// <param name="configJson">The same configuration as for <see cref="AuthorizeStart(string)"/>.</param>
        /// <param name="request">What <see cref="AuthorizeStart(string)"/> returned.</param>
        /// <param name="redirectUrl">The callback URL, query (or fragment) included.</param>
        /// <returns>The tokens, with <see cref="TokenResponse.RefreshToken"/> and <see cref="TokenResponse.IdToken"/> when sent.</returns>
        /// <exception cref="BearerException">invalid-callback (a wrong or missing state, code 1),
        /// authorization-denied (the user declined, code 3), invalid-grant (a used code or a
        /// wrong verifier, code 3), or any token endpoint problem.</exception>
        public static TokenResponse AuthorizeComplete(string configJson, AuthorizationRequest request, string redirectUrl)
        {
            if (request == null) throw new ArgumentNullException("request");
            return AuthorizeComplete(configJson, request.ToJson(), redirectUrl);
        }

        /// <summary><see cref="AuthorizeComplete(string, AuthorizationRequest, string)"/> with the request
        /// as the JSON kept from <see cref="AuthorizationRequest.ToJson"/>.</summary>
        public static TokenResponse AuthorizeComplete(string configJson, string requestJson, string redirectUrl)
        {
            return AuthorizeComplete(Utf8.ToNative(configJson, "configJson"), requestJson, redirectUrl);
        }

        /// <summary><see cref="AuthorizeComplete(string, AuthorizationRequest, string)"/> for a configuration map.</summary>
        public static TokenResponse AuthorizeComplete(IDictionary<string, object> config, AuthorizationRequest request, string redirectUrl)
        {
            if (request == null) throw new ArgumentNullException("request");
            return AuthorizeComplete(ConfigToJson(config, "config"), request.ToJson(), redirectUrl);
        }

        /// <summary><see cref="AuthorizeComplete(string, string, string)"/> for a configuration map.</summary>
        public static TokenResponse AuthorizeComplete(IDictionary<string, object> config, string requestJson, string redirectUrl)
        {
            return AuthorizeComplete(ConfigToJson(config, "config"), requestJson, redirectUrl);
        }

        static AuthorizationRequest AuthorizeStart(byte[] nativeConfig, bool terminated)
        {
            LibraryLoader.EnsureLoaded();
            return AuthorizeStartLoaded(nativeConfig);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static AuthorizationRequest AuthorizeStartLoaded(byte[] nativeConfig)
        {
            IntPtr value, problem;
            int status = NativeMethods.bearer_authorize_start(nativeConfig, out value, out problem);
            return AuthorizationRequest.Parse(Take(status, value, problem));
        }

        static TokenResponse AuthorizeComplete(byte[] nativeConfig, string requestJson, string redirectUrl)
        {
            byte[] nativeRequest = Utf8.ToNative(requestJson, "requestJson");
            byte[] nativeRedirect = Utf8.ToNative(redirectUrl, "redirectUrl");
            LibraryLoader.EnsureLoaded();
            return AuthorizeCompleteLoaded(nativeConfig, nativeRequest, nativeRedirect);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static TokenResponse AuthorizeCompleteLoaded(byte[] nativeConfig, byte[] nativeRequest, byte[] nativeRedirect)
        {
            IntPtr value, problem;
            int status = NativeMethods.bearer_authorize_complete(nativeConfig, nativeRequest, nativeRedirect, out value, out problem);
            return TokenResponse.Parse(Take(status, value, problem));
        }
    }
}
