using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace Bearer.Http
{
    /// <summary>
    /// An <see cref="HttpClient"/> handler that sends every request with the
    /// <see cref="BearerClient"/>'s cached token and, when the API refuses that token, reports
    /// it (<see cref="BearerClient.TokenRefused(string)"/>) and retries once with the new one.
    /// <para>
    /// <c>new HttpClient(new BearerHandler(client))</c> sends through an
    /// <see cref="HttpClientHandler"/> of its own with <c>AllowAutoRedirect = false</c> (made
    /// at the first request when no <c>InnerHandler</c> was set), and follows redirects itself: the token goes only to the request's own origin (scheme,
    /// host and port). Given another <see cref="DelegatingHandler.InnerHandler"/> (an object
    /// initializer, or <c>IHttpClientFactory</c>'s <c>AddHttpMessageHandler</c>), that handler
    /// follows redirects; Mono's and .NET's <see cref="HttpClientHandler"/> drop the
    /// <c>Authorization</c> header on every redirect, and a 401 after a redirect is passed
    /// through (the token did not go there).
    /// </para>
    /// <para>
    /// What it does: sets (never appends) <c>Authorization: Bearer</c> on every attempt; on a
    /// 401 whose Bearer challenge says <c>error="invalid_token"</c>, or a bare 401, calls
    /// <c>TokenRefused</c> with the token that request carried, then retries once with the
    /// client's current token when that differs and the body can be sent again (none, a
    /// <see cref="ByteArrayContent"/> such as <see cref="StringContent"/>, a seekable
    /// <see cref="StreamContent"/>, content after <c>LoadIntoBufferAsync</c>, or multipart of
    /// those). Everything else (403 insufficient_scope, a 401 with another error, the retry's
    /// own 401) comes back as is. Failing to get a token throws the
    /// <see cref="BearerException"/>: nothing is sent without a token.
    /// </para>
    /// <para>
    /// Asynchronous all the way: while the client's token is known to be fresh the cached
    /// token is read inline (a few microseconds, no I/O); when a request may be needed it
    /// is fetched on a thread-pool thread, so <c>SendAsync</c> never blocks its caller.
    /// </para>
    /// </summary>
    public class BearerHandler : DelegatingHandler
    {
        readonly BearerClient client;
        readonly bool retryOnRefusal;
        readonly object innerLock = new object();
        HttpClientHandler ownInner;

        /// <summary>A handler for <paramref name="client"/> that retries once on a refused token.</summary>
        public BearerHandler(BearerClient client) : this(client, true) { }

        /// <summary>A handler for <paramref name="client"/>; with <paramref name="retryOnRefusal"/>
        /// false a refused token is still reported, and the 401 comes back.</summary>
        public BearerHandler(BearerClient client, bool retryOnRefusal)
        {
            if (client == null) throw new ArgumentNullException("client");
            this.client = client;
            this.retryOnRefusal = retryOnRefusal;
            MaxRedirects = 50; // HttpClientHandler.MaxAutomaticRedirections' default
            // InnerHandler stays null here: IHttpClientFactory refuses a handler that has one.
        }

        /// <summary>The client whose token is sent.</summary>
        public BearerClient Client { get { return client; } }

        /// <summary>Whether a refused token is retried once with the new one.</summary>
        public bool RetryOnRefusal { get { return retryOnRefusal; } }

        /// <summary>Redirects followed by the handler's own inner handler, at most (default 50).</summary>
        public int MaxRedirects { get; set; }

        /// <inheritdoc />
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request == null) throw new ArgumentNullException("request");
            bool followHere = EnsureInner();
            Uri target = request.RequestUri;
            // Decided before the first attempt reads the body.
            bool replayable = Replayable.Is(request.Content);

            string token = await TokenAsync(cancellationToken).ConfigureAwait(false);
            Sent first = await AttemptAsync(request, target, token, followHere, cancellationToken).ConfigureAwait(false);
            if (!first.TokenWentToFinalHop || !Challenge.RefusesToken(first.Response)) return first.Response;

            string next;
            try
            {
                await BearerClient.RunAsync(() => client.TokenRefused(token), CancellationToken.None).ConfigureAwait(false);
                if (!retryOnRefusal || !replayable) return first.Response;
                next = await TokenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                first.Response.Dispose(); // the caller gets the exception, not the 401
                throw;
            }
            if (next == token) return first.Response; // nothing dropped (the two-second window): no point

            HttpRequestMessage again = Clone(request, target, request.Method, request.Content);
            first.Response.Dispose();
            Sent second = await AttemptAsync(again, target, next, followHere, cancellationToken).ConfigureAwait(false);
            return second.Response;
        }

        /// <summary>Gives the handler its own inner handler when nobody set one (before the first
        /// send, when InnerHandler can still be set); true when that one is in use, so that
        /// this handler follows the redirects.</summary>
        bool EnsureInner()
        {
            if (InnerHandler == null)
            {
                lock (innerLock)
                {
                    if (InnerHandler == null)
                    {
                        ownInner = new HttpClientHandler { AllowAutoRedirect = false };
                        InnerHandler = ownInner;
                    }
                }
            }
            HttpClientHandler own = ownInner;
            return own != null && ReferenceEquals(InnerHandler, own) && !own.AllowAutoRedirect;
        }

        /// <summary>The cached token inline while it is known fresh, else on a worker thread.</summary>
        Task<string> TokenAsync(CancellationToken cancellationToken)
        {
            if (client.TokenKnownFresh) return Task.FromResult(client.GetToken());
            return BearerClient.RunAsync(client.GetTokenRenewingHint, cancellationToken);
        }

        struct Sent
        {
            internal HttpResponseMessage Response;
            internal bool TokenWentToFinalHop;
        }

        /// <summary>One attempt: the request with the token, and, with the own inner handler,
        /// the redirects it answers, the token only on hops to the request's origin.</summary>
        async Task<Sent> AttemptAsync(HttpRequestMessage request, Uri target, string token, bool followHere,
                                      CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!followHere)
            {
                // An inner handler that followed a redirect moved RequestUri and dropped the header.
                Uri final = response.RequestMessage != null ? response.RequestMessage.RequestUri : null;
                return new Sent { Response = response, TokenWentToFinalHop = final == null || final == target };
            }

            bool tokenSent = true;
            HttpRequestMessage current = request;
            for (int hops = 0; hops < MaxRedirects; hops++)
            {
                Uri location = RedirectTarget(response, current.RequestUri);
                if (location == null) break;
                HttpMethod method = current.Method;
                HttpContent content = current.Content;
                int status = (int)response.StatusCode;
                if (status == 303 ? method != HttpMethod.Head : (status == 301 || status == 302) && method == HttpMethod.Post)
                {
                    method = HttpMethod.Get; // what browsers and HttpClientHandler do
                    content = null;
                }
                else if (content != null && !Replayable.Is(content))
                {
                    break; // 307/308 must resend the body, and it cannot be read again
                }
                bool sameOrigin = SameOrigin(location, target);
                HttpRequestMessage hop = Clone(current, location, method, content);
                if (!sameOrigin) hop.Headers.Host = null;
                if (sameOrigin) hop.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                response.Dispose();
                response = await base.SendAsync(hop, cancellationToken).ConfigureAwait(false);
                current = hop;
                tokenSent = sameOrigin;
            }
            return new Sent { Response = response, TokenWentToFinalHop = tokenSent };
        }

        static Uri RedirectTarget(HttpResponseMessage response, Uri from)
        {
            int status = (int)response.StatusCode;
            if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) return null;
            Uri location = response.Headers.Location;
            if (location == null) return null;
            if (!location.IsAbsoluteUri) location = new Uri(from, location);
            if (location.Scheme != Uri.UriSchemeHttp && location.Scheme != Uri.UriSchemeHttps) return null;
            return location;
        }

        static bool SameOrigin(Uri a, Uri b)
        {
            return string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
                && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
                && a.Port == b.Port;
        }

        /// <summary>A request message is sent once, so each attempt gets a copy: method, URI,
        /// version, headers (the token is set afterwards), the same content, properties.</summary>
        static HttpRequestMessage Clone(HttpRequestMessage request, Uri uri, HttpMethod method, HttpContent content)
        {
            var copy = new HttpRequestMessage(method, uri) { Version = request.Version, Content = content };
            foreach (KeyValuePair<string, IEnumerable<string>> header in request.Headers)
            {
                if (string.Equals(header.Key, "Authorization", StringComparison.OrdinalIgnoreCase)) continue;
                copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
            foreach (KeyValuePair<string, object> property in request.Properties)
                copy.Properties[property.Key] = property.Value;
            return copy;
        }


    }

    /// <summary>Whether a 401 refuses the token: a Bearer challenge with error="invalid_token" or
    /// without an error, or no challenge at all. Another scheme only, or another error, is not.</summary>
    internal static class Challenge
    {
        // Built at the first Bearer challenge, not by a type initializer: RefusesToken runs
        // after every response (200s too) on the pool thread that completes it, and under
        // Mono 6.8 building the Regex there made about one console program in twelve wait
        // ~60 s at exit (a parked pool worker missed the shutdown wake-up).
        static Regex error;

        static Regex Error
        {
            get
            {
                return LazyInitializer.EnsureInitialized(ref error, () => new Regex(
                    @"(?:^|,)\s*error\s*=\s*(?:""([^""]*)""|([^\s,]*))",
                    RegexOptions.IgnoreCase | RegexOptions.CultureInvariant));
            }
        }

        internal static bool RefusesToken(HttpResponseMessage response)
        {
            if (response.StatusCode != HttpStatusCode.Unauthorized) return false;
            HttpHeaderValueCollection<AuthenticationHeaderValue> challenges = response.Headers.WwwAuthenticate;
            // No challenge at all is a bare 401; one the parser could not read is not ours to judge.
            if (challenges.Count == 0) return !response.Headers.Contains("WWW-Authenticate");
            foreach (AuthenticationHeaderValue challenge in challenges)
            {
                if (!string.Equals(challenge.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)) continue;
                Match m = Error.Match(challenge.Parameter ?? "");
                if (!m.Success) return true;
                string error = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
                return error == "invalid_token";
            }
            return false;
        }
    }

    /// <summary>Whether request content can be sent a second time.</summary>
    internal static class Replayable
    {
        // HttpContent keeps what LoadIntoBufferAsync read in a private field, and StreamContent
        // its stream (which it rewinds when it can seek); both names are the same on Mono
        // 6 and .NET (Core), which share this code. A runtime without them counts as "cannot".
        static readonly FieldInfo Buffered = typeof(HttpContent).GetField("_bufferedContent", BindingFlags.Instance | BindingFlags.NonPublic);
        static readonly FieldInfo StreamField = typeof(StreamContent).GetField("_content", BindingFlags.Instance | BindingFlags.NonPublic);

        internal static bool Is(HttpContent content)
        {
            if (content == null || content is ByteArrayContent) return true;
            if (Buffered != null && Buffered.GetValue(content) != null) return true;
            var multipart = content as MultipartContent;
            if (multipart != null)
            {
                foreach (HttpContent part in multipart)
                    if (!Is(part)) return false;
                return true;
            }
            if (content is StreamContent && StreamField != null)
            {
                var stream = StreamField.GetValue(content) as Stream;
                return stream != null && stream.CanSeek;
            }
            return false;
        }
    }
}
