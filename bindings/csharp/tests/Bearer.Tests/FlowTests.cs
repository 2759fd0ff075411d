using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Bearer.Tests
{
    /// <summary>
    /// The user flows against the local server, mirroring tests/flows.rs and the C test: the
    /// test plays the browser (Browser.SignIn reads the server's redirect by hand).
    /// </summary>
    [TestFixture]
    public class FlowTests
    {
        const string TestUser = "auth0|bearer-test-user";

        static void AssertJwt(string token)
        {
            Assert.That(token, Is.Not.Null.And.StringStarting("eyJ"));
            Assert.AreEqual(3, token.Split('.').Length);
        }

        static BearerException Problem(TestDelegate call, string type, BearerStatus code, int status)
        {
            var e = Assert.Throws<BearerException>(call);
            Assert.AreEqual(type, e.Type, e.ProblemJson);
            Assert.AreEqual(code, e.Code, e.ProblemJson);
            Assert.AreEqual(status, e.Status, e.ProblemJson);
            Assert.AreEqual(e.Title + ": " + e.Detail, e.Message);
            return e;
        }

        // ---- authorization code with PKCE ------------------------------------------

        [Test]
        public void CodeFlowSignsTheUserIn()
        {
            string config = Server.ToJson(Server.Native());
            long tokenBefore = Server.Stat("auth0"), authorizeBefore = Server.Stat("authorize");
            AuthorizationRequest request = BearerClient.AuthorizeStart(config);

            StringAssert.StartsWith(Server.Base + "/authorize?", request.Url);
            Assert.AreEqual("code", request.ResponseType);
            Assert.AreEqual(Server.AppRedirect, request.RedirectUri);
            Assert.AreEqual("code", Browser.Param(request.Url, "response_type"));
            Assert.AreEqual("S256", Browser.Param(request.Url, "code_challenge_method"));
            Assert.AreEqual("openid profile email", Browser.Param(request.Url, "scope"));
            Assert.AreEqual(request.State, Browser.Param(request.Url, "state"));
            Assert.AreEqual(43, request.State.Length, "256 bits of state");
            Assert.IsNotNull(request.CodeVerifier);
            Assert.IsNotNull(request.Nonce);
            Assert.AreEqual(0, Server.Stat("auth0") - tokenBefore, "starting sends nothing");

            TokenResponse token = BearerClient.AuthorizeComplete(config, request, Browser.SignIn(request.Url));
            AssertJwt(token.AccessToken);
            Assert.AreEqual("Bearer", token.TokenType);
            Assert.That(token.ExpiresIn, Is.GreaterThan(0L));
            Assert.AreEqual(TestUser, Browser.Claims(token.AccessToken)["sub"]);
            AssertJwt(token.IdToken);
            Assert.AreEqual(request.Nonce, Browser.Claims(token.IdToken)["nonce"]);
            Assert.IsNull(token.RefreshToken, "no offline_access, no refresh token");
            StringAssert.DoesNotContain(token.AccessToken, token.ToString());
            StringAssert.DoesNotContain(token.IdToken, token.ToString());
            Assert.AreEqual(1, Server.Stat("auth0") - tokenBefore, "one code exchange");
            Assert.AreEqual(1, Server.Stat("authorize") - authorizeBefore);
        }

        [Test]
        public void RequestSurvivesARoundTripThroughItsJson()
        {
            var config = Server.Native();
            AuthorizationRequest request = BearerClient.AuthorizeStart(config);
            string json = request.ToJson();
            CollectionAssert.AreEqual(
                new[] { "url", "response_type", "redirect_uri", "state", "code_verifier", "nonce" },
                Json.ParseObject(json).Keys, "the library's members, in its order");

            AuthorizationRequest restored = AuthorizationRequest.FromJson(json);
            Assert.AreEqual(json, restored.ToJson(), "kept unchanged");
            Assert.AreEqual(request.Url, restored.Url);
            Assert.AreEqual(request.State, restored.State);
            Assert.AreEqual(request.CodeVerifier, restored.CodeVerifier);
            Assert.AreEqual(request.Nonce, restored.Nonce);

            foreach (var shown in new[] { request.ToString(), restored.ToString() })
            {
                StringAssert.Contains(Server.AppRedirect, shown);
                StringAssert.Contains("REDACTED", shown);
                StringAssert.DoesNotContain(request.State, shown);
                StringAssert.DoesNotContain(request.CodeVerifier, shown);
                StringAssert.DoesNotContain(request.Nonce, shown);
            }

            // Completed from the stored JSON string, as a web app does on its callback route.
            TokenResponse token = BearerClient.AuthorizeComplete(config, json, Browser.SignIn(restored.Url));
            AssertJwt(token.AccessToken);
        }

        [Test]
        public void ConfidentialClientUsesTheCodeFlowWithItsSecret()
        {
            var config = Server.Native();
            config["client_id"] = "demo-client";
            config["client_secret"] = "demo-secret";
            AuthorizationRequest request = BearerClient.AuthorizeStart(config);
            string redirect = Browser.SignIn(request.Url);
            Assert.AreEqual(TestUser, Browser.Claims(BearerClient.AuthorizeComplete(config, request, redirect).AccessToken)["sub"]);

            var e = Problem(() => BearerClient.AuthorizeComplete(config, request, redirect),
                "urn:bearer:problem:invalid-grant", BearerStatus.Rejected, 403);
            foreach (string shown in new[] { e.Message, e.ToString(), e.ProblemJson })
            {
                StringAssert.DoesNotContain("demo-secret", shown);
                StringAssert.DoesNotContain(request.CodeVerifier, shown);
            }
        }

        // ---- implicit ---------------------------------------------------------------

        [Test]
        public void ImplicitFlowReadsTheTokenFromTheFragment()
        {
            var config = Server.Native("implicit");
            config["client_id"] = "demo-client";
            config.Remove("token_url");
            AuthorizationRequest request = BearerClient.AuthorizeStart(config);
            Assert.AreEqual("token", request.ResponseType);
            Assert.AreEqual("token", Browser.Param(request.Url, "response_type"));
            Assert.IsNull(request.CodeVerifier);

            long before = Server.Requests();
            string redirect = Browser.SignIn(request.Url);
            StringAssert.Contains("#access_token=", redirect);
            TokenResponse token = BearerClient.AuthorizeComplete(config, request, redirect);
            Assert.AreEqual(Browser.Param(redirect, "access_token"), token.AccessToken);
            Assert.AreEqual("Bearer", token.TokenType);
            Assert.That(token.ExpiresIn, Is.GreaterThan(0L));
            Assert.AreEqual(0, Server.Requests() - before, "no token endpoint in the implicit flow");

            string forged = redirect.Replace("state=", "state=x");
            Problem(() => BearerClient.AuthorizeComplete(config, request, forged),
                "urn:bearer:problem:invalid-callback", BearerStatus.InvalidArgument, 400);
        }

        // ---- refresh ------------------------------------------------------------------

        /// <summary>Signs the test user in with offline_access and returns the refresh token.</summary>
        static string SignInForRefreshToken()
        {
            var config = Server.Native();
            config["scope"] = "openid offline_access";
            AuthorizationRequest request = BearerClient.AuthorizeStart(config);
            string refresh = BearerClient.AuthorizeComplete(config, request, Browser.SignIn(request.Url)).RefreshToken;
            Assert.IsNotNull(refresh, "offline_access gives a refresh token");
            return refresh;
        }

        static Dictionary<string, object> RefreshConfig(string refreshToken, string query)
        {
            return new Dictionary<string, object>
            {
                { "client_id", "native-client" },
                { "grant_type", "refresh_token" },
                { "refresh_token", refreshToken },
                { "token_url", Server.Base + "/oauth/token" + query },
            };
        }

        [Test]
        public void ClientRefreshesOnExpiryAndFollowsRotation()
        {
            string first = SignInForRefreshToken();
            long before = Server.Stat("refresh");
            using (var client = new BearerClient(RefreshConfig(first, Server.Unique("expires_in=2"))))
            {
                TokenResponse a = client.GetTokenResponse();
                Assert.AreEqual(a.AccessToken, client.GetToken(), "cached while fresh");
                Assert.AreEqual(1, Server.Stat("refresh") - before, "two calls, one refresh");
                Assert.IsNotNull(a.RefreshToken);
                Assert.AreNotEqual(first, a.RefreshToken, "the server rotated the refresh token");
                StringAssert.DoesNotContain(a.RefreshToken, a.ToString());

                Thread.Sleep(2100);
                TokenResponse c = client.GetTokenResponse();
                Assert.AreNotEqual(a.AccessToken, c.AccessToken, "a new access token after expiry");
                Assert.AreEqual(2, Server.Stat("refresh") - before, "the rotated refresh token worked");
                Assert.AreNotEqual(a.RefreshToken, c.RefreshToken, "rotated again");
            }

            // The first refresh token was used up by the rotation.
            using (var stale = new BearerClient(RefreshConfig(first, Server.Unique("stale=1"))))
            {
                var e = Problem(() => stale.GetToken(), "urn:bearer:problem:invalid-grant", BearerStatus.Rejected, 403);
                StringAssert.DoesNotContain(first, e.ProblemJson);
                StringAssert.DoesNotContain(first, e.ToString());
            }
        }

        [Test]
        public void ThreadsSharingARefreshingClientSendOneRefresh()
        {
            using (var client = new BearerClient(RefreshConfig(SignInForRefreshToken(), Server.Unique("stall_ms=200"))))
            {
                long before = Server.Stat("refresh");
                var tasks = new Task<string>[8];
                for (int i = 0; i < tasks.Length; i++) tasks[i] = client.GetTokenAsync();
                Task.WaitAll(tasks);
                foreach (var t in tasks) Assert.AreEqual(tasks[0].Result, t.Result);
                Assert.AreEqual(1, Server.Stat("refresh") - before);
            }
        }

        // ---- failures of the code flow --------------------------------------------------

        [Test]
        public void WrongOrMissingStateIsRefusedBeforeAnyExchange()
        {
            var config = Server.Native();
            AuthorizationRequest request = BearerClient.AuthorizeStart(config);
            string redirect = Browser.SignIn(request.Url);
            long before = Server.Stat("auth0");

            string forged = redirect.Replace(request.State, "forged-state");
            var e = Problem(() => BearerClient.AuthorizeComplete(config, request, forged),
                "urn:bearer:problem:invalid-callback", BearerStatus.InvalidArgument, 400);
            Assert.AreEqual("state_mismatch", e.Extensions["reason"]);

            string stateless = Server.AppRedirect + "?code=" + Browser.Param(redirect, "code");
            Problem(() => BearerClient.AuthorizeComplete(config, request, stateless),
                "urn:bearer:problem:invalid-callback", BearerStatus.InvalidArgument, 400);

            string elsewhere = redirect.Replace("127.0.0.1:9/", "127.0.0.1:10/");
            Problem(() => BearerClient.AuthorizeComplete(config, request, elsewhere),
                "urn:bearer:problem:invalid-callback", BearerStatus.InvalidArgument, 400);
            Assert.AreEqual(0, Server.Stat("auth0") - before, "nothing was exchanged");
        }

        [Test]
        public void ACodeWorksOnce()
        {
            var config = Server.Native();
            AuthorizationRequest request = BearerClient.AuthorizeStart(config);
            string redirect = Browser.SignIn(request.Url);
            BearerClient.AuthorizeComplete(config, request, redirect);
            var e = Problem(() => BearerClient.AuthorizeComplete(config, request, redirect),
                "urn:bearer:problem:invalid-grant", BearerStatus.Rejected, 403);
            Assert.AreEqual("invalid_grant", e.Extensions["error"]);
            StringAssert.DoesNotContain(Browser.Param(redirect, "code"), e.ProblemJson, "the code is redacted");
        }

        [Test]
        public void AWrongVerifierFailsPkce()
        {
            var config = Server.Native();
            AuthorizationRequest request = BearerClient.AuthorizeStart(config);
            string redirect = Browser.SignIn(request.Url);
            Dictionary<string, object> tampered = Json.ParseObject(request.ToJson());
            tampered["code_verifier"] = new string('x', 43);
            var e = Problem(() => BearerClient.AuthorizeComplete(config, AuthorizationRequest.FromJson(Json.Write(tampered)), redirect),
                "urn:bearer:problem:invalid-grant", BearerStatus.Rejected, 403);
            Assert.AreEqual("Failed PKCE verification", e.Detail);
        }

        [Test]
        public void ADeclinedSignInIsAuthorizationDenied()
        {
            var config = Server.Native();
            AuthorizationRequest request = BearerClient.AuthorizeStart(config);
            long before = Server.Stat("auth0");
            string redirect = Browser.SignIn(request.Url + "&deny=1");
            var e = Problem(() => BearerClient.AuthorizeComplete(config, request, redirect),
                "urn:bearer:problem:authorization-denied", BearerStatus.Rejected, 403);
            Assert.AreEqual("access_denied", e.Extensions["error"]);
            Assert.AreEqual(0, Server.Stat("auth0") - before);
        }

        [Test]
        public void FlowInputsAreChecked()
        {
            var config = Server.Native();
            AuthorizationRequest request = BearerClient.AuthorizeStart(config);
            Assert.Throws<ArgumentNullException>(() => BearerClient.AuthorizeStart((string)null));
            Assert.Throws<ArgumentNullException>(() => BearerClient.AuthorizeStart((IDictionary<string, object>)null));
            Assert.Throws<ArgumentNullException>(() => BearerClient.AuthorizeComplete(config, (AuthorizationRequest)null, Server.AppRedirect));
            Assert.Throws<ArgumentNullException>(() => BearerClient.AuthorizeComplete(config, (string)null, Server.AppRedirect));
            Assert.Throws<ArgumentNullException>(() => BearerClient.AuthorizeComplete(config, request, null));
            Assert.Throws<ArgumentNullException>(() => BearerClient.AuthorizeComplete((string)null, request, Server.AppRedirect));
            Assert.Throws<ArgumentNullException>(() => AuthorizationRequest.FromJson(null));
            Assert.Throws<ArgumentException>(() => AuthorizationRequest.FromJson("[1]"));
            Assert.Throws<ArgumentException>(() => BearerClient.AuthorizeComplete(config, request, "http://x/\0"));

            var noRedirect = Server.Native();
            noRedirect.Remove("redirect_uri");
            var e = Problem(() => BearerClient.AuthorizeStart(noRedirect),
                "urn:bearer:problem:invalid-config", BearerStatus.InvalidConfig, 400);
            Assert.AreEqual("redirect_uri", e.Extensions["key"]);

            var insecure = Server.Native();
            insecure["redirect_uri"] = "http://example.com/callback";
            Problem(() => BearerClient.AuthorizeStart(insecure), "urn:bearer:problem:insecure-url", BearerStatus.InvalidConfig, 400);

            var noRefreshToken = new Dictionary<string, object> { { "client_id", "x" }, { "grant_type", "refresh_token" } };
            var r = Assert.Throws<BearerException>(() => new BearerClient(noRefreshToken));
            Assert.AreEqual("refresh_token", r.Extensions["key"]);

            // Not a request the library wrote: refused by the library, not here.
            var bad = Assert.Throws<BearerException>(() => BearerClient.AuthorizeComplete(config, "{}", Server.AppRedirect + "?code=a&state=b"));
            Assert.That(bad.Code, Is.EqualTo(BearerStatus.InvalidArgument).Or.EqualTo(BearerStatus.InvalidConfig), bad.ProblemJson);
        }

        // ---- loopback login -----------------------------------------------------------

        static Dictionary<string, object> LoopbackConfig()
        {
            var config = Server.Native();
            config.Remove("redirect_uri");
            return config;
        }

        /// <summary>The user's browser on another thread: authorize URL -> redirect -> the listener's page.</summary>
        static Task<HttpAnswer> BrowseInBackground(string url)
        {
            return Task.Factory.StartNew(() => Browser.Get(Browser.SignIn(url)),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        [Test]
        public void LoopbackLoginTakesTheBrowsersRedirect()
        {
            using (BearerLogin login = BearerLogin.Start(LoopbackConfig()))
            {
                StringAssert.StartsWith(Server.Base + "/authorize?", login.Url);
                string redirectUri = Browser.Param(login.Url, "redirect_uri");
                Assert.That(redirectUri, Is.StringMatching(@"^http://127\.0\.0\.1:\d+/callback$"));
                Assert.AreEqual("S256", Browser.Param(login.Url, "code_challenge_method"));
                StringAssert.DoesNotContain(Browser.Param(login.Url, "state"), login.ToString());

                Task<HttpAnswer> browser = BrowseInBackground(login.Url);
                TokenResponse token = login.Wait(TimeSpan.FromSeconds(10));
                HttpAnswer page = browser.Result;
                Assert.AreEqual(200, page.Status);
                StringAssert.Contains("You are signed in", page.Body);
                AssertJwt(token.AccessToken);
                Assert.AreEqual(TestUser, Browser.Claims(token.AccessToken)["sub"]);
                AssertJwt(token.IdToken);

                // A login completes once.
                Problem(() => login.Wait(TimeSpan.FromMilliseconds(10)),
                    "urn:bearer:problem:invalid-argument", BearerStatus.InvalidArgument, 400);
            }
        }

        [Test]
        public void WaitAsyncDoesNotBlockTheCaller()
        {
            using (BearerLogin login = BearerLogin.Start(Server.ToJson(LoopbackConfig())))
            {
                var clock = Stopwatch.StartNew();
                Task<TokenResponse> waiting = login.WaitAsync(TimeSpan.FromSeconds(10));
                Assert.That(clock.ElapsedMilliseconds, Is.LessThan(200), "WaitAsync returned at once");
                Thread.Sleep(100);
                Assert.IsFalse(waiting.IsCompleted, "still waiting for the browser");
                HttpAnswer page = BrowseInBackground(login.Url).Result;
                Assert.AreEqual(200, page.Status);
                Assert.IsTrue(waiting.Wait(10000));
                AssertJwt(waiting.Result.AccessToken);
            }
        }

        [Test]
        public void ListenerTimeout()
        {
            using (BearerLogin login = BearerLogin.Start(LoopbackConfig()))
            {
                var clock = Stopwatch.StartNew();
                Problem(() => login.Wait(TimeSpan.FromMilliseconds(200)), "urn:bearer:problem:timeout", BearerStatus.Timeout, 504);
                Assert.That(clock.ElapsedMilliseconds, Is.InRange(200L, 2000L));

                var async = Assert.Throws<AggregateException>(() => login.WaitAsync(TimeSpan.FromMilliseconds(50)).Wait());
                Assert.AreEqual(BearerStatus.Timeout, ((BearerException)async.InnerException).Code);
            }
        }

        [Test]
        public void ForgedCallbackIsRefusedAndTheLoginGoesOn()
        {
            using (BearerLogin login = BearerLogin.Start(LoopbackConfig()))
            {
                long before = Server.Stat("auth0");
                string url = login.Url;
                string forged = Browser.Param(url, "redirect_uri") + "?code=stolen&state=forged";
                // The forged request first, then the real browser: only the real redirect ends the wait.
                Task<HttpAnswer[]> browser = Task.Factory.StartNew(
                    () => new[] { Browser.Get(forged), Browser.Get(Browser.SignIn(url)) },
                    CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                TokenResponse token = login.Wait(TimeSpan.FromSeconds(10));
                HttpAnswer[] answers = browser.Result;
                Assert.AreEqual(400, answers[0].Status, "the forged callback is refused");
                Assert.AreEqual(200, answers[1].Status);
                Assert.AreEqual(TestUser, Browser.Claims(token.AccessToken)["sub"]);
                Assert.AreEqual(1, Server.Stat("auth0") - before, "only the real code is exchanged");
            }
        }

        [Test]
        public void DisposedLoginThrowsAndDisposeTwiceIsHarmless()
        {
            BearerLogin login = BearerLogin.Start(LoopbackConfig());
            string url = login.Url;
            Assert.IsFalse(login.IsDisposed);
            login.Dispose();
            Assert.IsTrue(login.IsDisposed);
            Assert.AreEqual(url, login.Url, "the URL is a copy");
            var e = Assert.Throws<ObjectDisposedException>(() => login.Wait(TimeSpan.FromSeconds(1)));
            StringAssert.Contains("disposed", e.Message);
            Assert.Throws<ObjectDisposedException>(() => login.WaitAsync(TimeSpan.FromSeconds(1)));
            login.Dispose();
            login.Close();

            // The listener is closed: the browser can no longer reach it.
            string redirectUri = Browser.Param(url, "redirect_uri");
            Assert.Throws<System.Net.Sockets.SocketException>(() => Browser.Get(redirectUri + "?code=a&state=b"));
        }

        [Test]
        public void DisposeDuringAWaitFreesWhenTheWaitReturns()
        {
            BearerLogin login = BearerLogin.Start(LoopbackConfig());
            Task<TokenResponse> waiting = login.WaitAsync(TimeSpan.FromMilliseconds(300));
            Thread.Sleep(50);
            login.Dispose(); // the SafeHandle defers bearer_login_free until the wait returns
            var e = Assert.Throws<AggregateException>(() => waiting.Wait());
            Assert.AreEqual(BearerStatus.Timeout, ((BearerException)e.InnerException).Code);
            Assert.IsTrue(login.IsDisposed);
        }

        [Test]
        public void LoginInputsAreChecked()
        {
            Assert.Throws<ArgumentNullException>(() => BearerLogin.Start((string)null));
            Assert.Throws<ArgumentNullException>(() => BearerLogin.Start((IDictionary<string, object>)null));
            var https = Server.Native();
            https["redirect_uri"] = "https://app.example.com/callback";
            var e = Assert.Throws<BearerException>(() => BearerLogin.Start(https));
            Assert.AreEqual("redirect_uri", e.Extensions["key"]);
            Assert.AreEqual(BearerStatus.InvalidConfig, e.Code);
            Problem(() => BearerLogin.Start("{"), "urn:bearer:problem:invalid-config", BearerStatus.InvalidConfig, 400);
            using (BearerLogin login = BearerLogin.Start(LoopbackConfig()))
                Assert.Throws<ArgumentOutOfRangeException>(() => login.Wait(TimeSpan.FromMilliseconds(-5)));
        }

        [Test]
        public void LoginWithoutDisposeIsFinalized()
        {
            for (int i = 0; i < 50; i++) BearerLogin.Start(LoopbackConfig());
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}
