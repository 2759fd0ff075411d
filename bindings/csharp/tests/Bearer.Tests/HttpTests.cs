using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Tasks;
using Bearer.Http;
using NUnit.Framework;

namespace Bearer.Tests
{
    /// <summary>
    /// BearerHandler against the suite's server, twice: with its own inner handler (it follows
    /// redirects itself), and with an HttpClientHandler given by the caller, as
    /// IHttpClientFactory does (that handler follows redirects). A fresh client per test.
    /// </summary>
    [TestFixture("own")]
    [TestFixture("HttpClientHandler")]
    public class HttpTests
    {
        readonly string inner;

        public HttpTests(string inner) { this.inner = inner; }

        static readonly HttpClient Plain = new HttpClient();

        BearerClient client;

        [SetUp]
        public void NewClient() { client = new BearerClient(Server.ToJson(Server.Auth0())); }

        [TearDown]
        public void CloseClient() { client.Dispose(); }

        HttpClient Http(bool retry = true, BearerClient with = null)
        {
            var handler = new BearerHandler(with ?? client, retry);
            if (inner == "HttpClientHandler") handler.InnerHandler = new HttpClientHandler();
            return new HttpClient(handler);
        }

        static string Api(string path) { return Server.Base + "/api/" + path; }

        static void Revoke()
        {
            using (HttpResponseMessage r = Plain.PostAsync(Server.Base + "/_revoke", new ByteArrayContent(new byte[0])).Result)
                Assert.IsTrue(r.IsSuccessStatusCode, "revoked");
        }

        static Dictionary<string, object> Echo(HttpResponseMessage response)
        {
            return Json.ParseObject(response.Content.ReadAsStringAsync().Result);
        }

        static int AuthorizationHeaders(Dictionary<string, object> echo)
        {
            return ((List<object>)echo["headers"]).Count(h => (string)h == "authorization");
        }

        /// <summary>A first request, so that the client holds the token the test then revokes.</summary>
        static List<object> Warm(HttpClient http)
        {
            using (HttpResponseMessage r = http.GetAsync(Api("whoami")).Result)
            {
                Assert.AreEqual(HttpStatusCode.OK, r.StatusCode);
                return (List<object>)Echo(r)["headers"];
            }
        }

        /// <summary>A stream that can be read once: no seeking, like a network or pipe stream.</summary>
        sealed class ReadOnceStream : MemoryStream
        {
            public ReadOnceStream(byte[] bytes) : base(bytes) { }
            public override bool CanSeek { get { return false; } }
            public override long Seek(long offset, SeekOrigin loc) { throw new NotSupportedException(); }
            public override long Position { get { return base.Position; } set { throw new NotSupportedException(); } }
        }

        [Test]
        public void TokenIsAttachedOnce()
        {
            using (HttpClient http = Http())
            {
                var request = new HttpRequestMessage(HttpMethod.Get, Api("whoami"));
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer stale-value-set-by-the-caller");
                using (HttpResponseMessage r = http.SendAsync(request).Result)
                {
                    Assert.AreEqual(HttpStatusCode.OK, r.StatusCode);
                    var echo = Echo(r);
                    Assert.AreEqual("demo-client@clients", echo["sub"]);
                    Assert.AreEqual(1, AuthorizationHeaders(echo), "set, not appended");
                }
            }
        }

        [Test]
        public void RevokedTokenIsReplacedOnceAndRetried()
        {
            using (HttpClient http = Http())
            {
                List<object> plain = Warm(http);
                Revoke();
                long auth0 = Server.Stat("auth0"), api = Server.Stat("api");
                using (HttpResponseMessage r = http.GetAsync(Api("whoami")).Result)
                {
                    Assert.AreEqual(HttpStatusCode.OK, r.StatusCode);
                    var echo = Echo(r);
                    Assert.AreEqual(1, AuthorizationHeaders(echo));
                    CollectionAssert.AreEqual(plain, (List<object>)echo["headers"], "the same headers as a first request: no retry marker");
                    StringAssert.DoesNotContain("?", (string)echo["path"]);
                }
                Assert.AreEqual(1, Server.Stat("auth0") - auth0, "one new token");
                Assert.AreEqual(2, Server.Stat("api") - api, "the refused attempt and the retry");
            }
        }

        [Test]
        public void SixteenConcurrentRequestsOnARevokedTokenShareOneNewToken()
        {
            using (HttpClient http = Http())
            {
                Warm(http);
                Revoke();
                long auth0 = Server.Stat("auth0");
                Task<HttpResponseMessage>[] requests = Enumerable.Range(0, 16).Select(_ => http.GetAsync(Api("whoami"))).ToArray();
                Task.WaitAll(requests);
                Assert.That(requests.Select(t => t.Result.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));
                foreach (var t in requests) t.Result.Dispose();
                Assert.AreEqual(1, Server.Stat("auth0") - auth0, "one new token for all sixteen");
            }
        }

        [Test]
        public void InsufficientScopePassesThrough()
        {
            using (HttpClient http = Http())
            {
                Warm(http);
                long auth0 = Server.Stat("auth0"), api = Server.Stat("api");
                using (HttpResponseMessage r = http.GetAsync(Api("admin")).Result)
                {
                    Assert.AreEqual(HttpStatusCode.Forbidden, r.StatusCode);
                    StringAssert.Contains("insufficient_scope", r.Headers.WwwAuthenticate.ToString());
                }
                Assert.AreEqual(0, Server.Stat("auth0") - auth0, "no new token");
                Assert.AreEqual(1, Server.Stat("api") - api, "one attempt");
            }
        }

        [Test]
        public void ARefusalOnTheRetryIsReturned()
        {
            using (HttpClient http = Http())
            {
                Warm(http);
                long auth0 = Server.Stat("auth0"), api = Server.Stat("api");
                using (HttpResponseMessage r = http.GetAsync(Api("refuse")).Result)
                {
                    Assert.AreEqual(HttpStatusCode.Unauthorized, r.StatusCode);
                    StringAssert.Contains("invalid_token", r.Headers.WwwAuthenticate.ToString());
                }
                Assert.AreEqual(2, Server.Stat("api") - api, "two attempts, no third");
                Assert.AreEqual(1, Server.Stat("auth0") - auth0, "one new token");
            }
        }

        static HttpContent Body(string kind, byte[] bytes)
        {
            switch (kind)
            {
                case "string": return new StringContent(Encoding.UTF8.GetString(bytes), Encoding.UTF8, "text/plain");
                case "bytes": return new ByteArrayContent(bytes);
                case "seekable stream": return new StreamContent(new MemoryStream(bytes));
                case "buffered stream":
                    var buffered = new StreamContent(new ReadOnceStream(bytes));
                    buffered.LoadIntoBufferAsync().Wait();
                    return buffered;
                case "multipart":
                    return new MultipartFormDataContent("boundary") { { new StringContent("a"), "one" }, { new ByteArrayContent(bytes), "two" } };
                default: throw new ArgumentException(kind);
            }
        }

        [TestCase("string")]
        [TestCase("bytes")]
        [TestCase("seekable stream")]
        [TestCase("buffered stream")]
        [TestCase("multipart")]
        public void APostBodyIsReplayedOnTheRetry(string kind)
        {
            byte[] bytes = Encoding.UTF8.GetBytes("{\"n\": 1, \"text\": \"grüße\"}");
            using (HttpClient http = Http())
            {
                Warm(http);
                Revoke();
                long api = Server.Stat("api");
                using (HttpContent content = Body(kind, bytes))
                using (HttpResponseMessage r = http.PostAsync(Api("x"), content).Result)
                {
                    Assert.AreEqual(HttpStatusCode.OK, r.StatusCode);
                    var echo = Echo(r);
                    Assert.AreEqual("POST", echo["method"]);
                    string body = (string)echo["body"];
                    if (kind == "multipart") StringAssert.Contains(Encoding.UTF8.GetString(bytes), body);
                    else Assert.AreEqual(Encoding.UTF8.GetString(bytes), body);
                }
                Assert.AreEqual(2, Server.Stat("api") - api, "refused, then replayed");
            }
        }

        [Test]
        public void ABodyReadOnceIsNotReplayed()
        {
            byte[] bytes = Encoding.UTF8.GetBytes("read once");
            using (HttpClient http = Http())
            {
                Warm(http);
                Revoke();
                long auth0 = Server.Stat("auth0"), api = Server.Stat("api");
                var content = new StreamContent(new ReadOnceStream(bytes));
                content.Headers.ContentLength = bytes.Length;
                using (HttpResponseMessage r = http.PostAsync(Api("x"), content).Result)
                    Assert.AreEqual(HttpStatusCode.Unauthorized, r.StatusCode, "the 401 comes back");
                Assert.AreEqual(1, Server.Stat("api") - api, "no second attempt");
                using (HttpResponseMessage r = http.GetAsync(Api("whoami")).Result)
                    Assert.AreEqual(HttpStatusCode.OK, r.StatusCode, "the refusal was reported: the next request has a new token");
                Assert.AreEqual(1, Server.Stat("auth0") - auth0);
            }
        }

        [Test]
        public void ACrossOriginRedirectLosesTheToken()
        {
            using (var second = new ServerProcess())
            using (HttpClient http = Http())
            {
                string to = second.Base + "/api/open";
                using (HttpResponseMessage r = http.GetAsync(Api("redirect?to=" + Uri.EscapeDataString(to))).Result)
                {
                    Assert.AreEqual(HttpStatusCode.OK, r.StatusCode);
                    var echo = Echo(r);
                    Assert.AreEqual("/api/open", echo["path"]);
                    Assert.AreEqual(false, echo["authorization"], "no token for another origin");
                    Assert.AreEqual(to, r.RequestMessage.RequestUri.ToString());
                }
            }
        }

        /// <summary>The own inner handler keeps the token on a same-origin redirect; an
        /// HttpClientHandler that follows it drops the header on every redirect, and the 401
        /// that then comes is passed through without reporting the token (it was not sent).</summary>
        [Test]
        public void ASameOriginRedirect()
        {
            using (HttpClient http = Http())
            {
                Warm(http);
                long auth0 = Server.Stat("auth0"), api = Server.Stat("api");
                using (HttpResponseMessage r = http.GetAsync(Api("redirect?to=" + Uri.EscapeDataString(Api("whoami")))).Result)
                {
                    if (inner == "own")
                    {
                        Assert.AreEqual(HttpStatusCode.OK, r.StatusCode);
                        Assert.AreEqual(1, AuthorizationHeaders(Echo(r)));
                    }
                    else
                    {
                        Assert.AreEqual(HttpStatusCode.Unauthorized, r.StatusCode);
                        Assert.AreEqual(2, Server.Stat("api") - api, "no retry");
                    }
                }
                Assert.AreEqual(0, Server.Stat("auth0") - auth0, "the token was not reported");
            }
        }

        [Test]
        public void WithRetryOffTheRefusalIsReportedAndReturned()
        {
            using (HttpClient http = Http(retry: false))
            {
                Warm(http);
                Revoke();
                long auth0 = Server.Stat("auth0"), api = Server.Stat("api");
                using (HttpResponseMessage r = http.GetAsync(Api("whoami")).Result)
                    Assert.AreEqual(HttpStatusCode.Unauthorized, r.StatusCode);
                Assert.AreEqual(1, Server.Stat("api") - api, "one attempt");
                Assert.AreEqual(0, Server.Stat("auth0") - auth0);
                using (HttpResponseMessage r = http.GetAsync(Api("whoami")).Result)
                    Assert.AreEqual(HttpStatusCode.OK, r.StatusCode);
                Assert.AreEqual(1, Server.Stat("auth0") - auth0, "one new token");
            }
        }

        /// <summary>A token that needs a request is fetched on a worker thread: SendAsync returns
        /// at once; afterwards the cached token is known fresh and read inline.</summary>
        [Test]
        public void AFetchDoesNotBlockTheCaller()
        {
            using (var slow = new BearerClient(Server.ToJson(Server.Auth0(Server.Unique("stall_ms=800")))))
            using (HttpClient http = Http(with: slow))
            {
                Assert.IsFalse(slow.TokenKnownFresh);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                Task<HttpResponseMessage> request = http.GetAsync(Api("whoami"));
                Assert.That(clock.ElapsedMilliseconds, Is.LessThan(400), "SendAsync returned before the token came");
                using (HttpResponseMessage r = request.Result)
                    Assert.AreEqual(HttpStatusCode.OK, r.StatusCode);
                Assert.That(clock.ElapsedMilliseconds, Is.GreaterThanOrEqualTo(750));
                Assert.IsTrue(slow.TokenKnownFresh, "the next requests read the cached token inline");
                Assert.IsTrue(slow.TokenRefused(slow.GetToken()));
                Assert.IsFalse(slow.TokenKnownFresh, "a drop forgets it");
            }
        }

        [Test]
        public void NoTokenNoRequest()
        {
            var config = Server.Auth0();
            config["client_secret"] = "wrong-secret";
            using (var refused = new BearerClient(Server.ToJson(config)))
            using (HttpClient http = Http(with: refused))
            {
                long api = Server.Stat("api");
                var e = Assert.Throws<BearerException>(() => http.GetAsync(Api("whoami")).GetAwaiter().GetResult());
                Assert.AreEqual(BearerStatus.Rejected, e.Code);
                Assert.AreEqual(0, Server.Stat("api") - api, "nothing sent");
            }
        }
    }

    [TestFixture]
    public class HttpAssemblyTests
    {
        /// <summary>Bearer.dll loads and works where System.Net.Http is absent: only Bearer.Http needs it.</summary>
        [Test]
        public void BearerDllDoesNotReferenceSystemNetHttp()
        {
            var names = typeof(BearerClient).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
            CollectionAssert.DoesNotContain(names, "System.Net.Http");
            CollectionAssert.Contains(typeof(BearerHandler).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList(), "System.Net.Http");
        }

        /// <summary>Which 401s refuse the token, including answers the local server never gives
        /// (another error, another scheme, several challenges).</summary>
        [TestCase(401, null, true)]
        [TestCase(401, "Bearer realm=\"api\"", true)]
        [TestCase(401, "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"expired\"", true)]
        [TestCase(401, "Bearer error=invalid_token", true)]
        [TestCase(401, "Bearer realm=\"api\", error=\"invalid_request\"", false)]
        [TestCase(401, "Bearer error_description=\"x\", error=\"insufficient_scope\"", false)]
        [TestCase(401, "Basic realm=\"api\"", false)]
        [TestCase(401, "Basic realm=\"api\", Bearer realm=\"api\"", true)]
        [TestCase(403, "Bearer error=\"insufficient_scope\", scope=\"admin\"", false)]
        [TestCase(403, null, false)]
        [TestCase(200, null, false)]
        public void WhichAnswersRefuseTheToken(int status, string challenge, bool refuses)
        {
            using (var response = new HttpResponseMessage((HttpStatusCode)status))
            {
                if (challenge != null) Assert.IsTrue(response.Headers.TryAddWithoutValidation("WWW-Authenticate", challenge));
                Assert.AreEqual(refuses, Challenge.RefusesToken(response), status + " " + challenge);
            }
        }

        /// <summary>IHttpClientFactory's AddHttpMessageHandler refuses a handler whose InnerHandler is set.</summary>
        [Test]
        public void ANewHandlerHasNoInnerHandlerYet()
        {
            using (var client = new BearerClient(Server.ToJson(Server.Auth0())))
            {
                var handler = new BearerHandler(client);
                Assert.IsNull(handler.InnerHandler);
                Assert.IsTrue(handler.RetryOnRefusal);
                Assert.AreSame(client, handler.Client);
                Assert.IsFalse(new BearerHandler(client, false).RetryOnRefusal);
            }
        }

        [Test]
        public void NullClientIsAnArgumentError()
        {
            Assert.Throws<ArgumentNullException>(() => new BearerHandler(null));
        }
    }
}
