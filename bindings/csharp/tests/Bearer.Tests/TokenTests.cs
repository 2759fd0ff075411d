using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Bearer.Tests
{
    [TestFixture]
    public class TokenTests
    {
        static void AssertJwt(string token)
        {
            Assert.That(token, Is.Not.Null.And.StringStarting("eyJ"));
            Assert.AreEqual(3, token.Split('.').Length, "a JWT has three parts");
        }

        [Test]
        public void OneShotAuth0Token()
        {
            AssertJwt(BearerClient.FetchToken(Server.ToJson(Server.Auth0())));
        }

        [Test]
        public void OneShotCobuilderToken()
        {
            AssertJwt(BearerClient.FetchToken(Server.ToJson(Server.Cobuilder())));
        }

        [Test]
        public void OneShotTokenResponse()
        {
            TokenResponse r = BearerClient.FetchTokenResponse(Server.ToJson(Server.Auth0()));
            AssertJwt(r.AccessToken);
            Assert.AreEqual("Bearer", r.TokenType);
            Assert.That(r.ExpiresIn, Is.InRange(86000L, 86400L));
        }

        [Test]
        public void OneShotFromDictionaryAndBytes()
        {
            AssertJwt(BearerClient.FetchToken(Server.Cobuilder()));
            AssertJwt(BearerClient.FetchTokenResponse(Server.Auth0()).AccessToken);
            AssertJwt(BearerClient.FetchToken(System.Text.Encoding.UTF8.GetBytes(Server.ToJson(Server.Auth0()))));
        }

        [TestCase("auth0")]
        [TestCase("cobuilder")]
        public void ClientTokenResponseAndHeader(string shape)
        {
            var config = shape == "auth0" ? Server.Auth0() : Server.Cobuilder();
            using (var client = new BearerClient(Server.ToJson(config)))
            {
                string token = client.GetToken();
                AssertJwt(token);
                TokenResponse r = client.GetTokenResponse();
                Assert.AreEqual(token, r.AccessToken);
                Assert.AreEqual("Bearer", r.TokenType);
                Assert.That(r.ExpiresIn, Is.GreaterThan(0L).And.AtMost(86400L));
                var expected = DateTimeOffset.UtcNow.AddSeconds(r.ExpiresIn);
                Assert.That(Math.Abs((r.ExpiresAt - expected).TotalSeconds), Is.LessThan(5.0));
                Assert.IsNull(r.Scope);
                StringAssert.Contains("\"access_token\":\"" + token + "\"", r.Json);
                StringAssert.DoesNotContain(token, r.ToString(), "ToString shows the length, not the token");
                Assert.AreEqual("Bearer " + token, client.GetAuthorizationHeader());
            }
        }

        [Test]
        public void ClientFromDictionaryWithUnicodeScope()
        {
            // UTF-8 both ways: the scope goes in as UTF-8 and comes back in the response.
            var config = Server.Auth0();
            config["scope"] = "lire écrire ✓ 日本";
            using (var client = new BearerClient(config))
                Assert.AreEqual("lire écrire ✓ 日本", client.GetTokenResponse().Scope);
        }

        [Test]
        public void ClientCachesItsToken()
        {
            using (var client = new BearerClient(Server.ToJson(Server.Auth0())))
            {
                long before = Server.Requests();
                string first = client.GetToken();
                string second = client.GetToken();
                Assert.AreEqual(first, second);
                Assert.AreEqual("Bearer " + first, client.GetAuthorizationHeader());
                Assert.AreEqual(first, client.GetTokenResponse().AccessToken);
                Assert.AreEqual(1, Server.Requests() - before, "one request for the whole client");
            }
        }

        [Test]
        public void OneShotIsCachedProcessWide()
        {
            string config = Server.ToJson(Server.Cobuilder());
            long before = Server.Stats()["cobuilder"];
            string first = BearerClient.FetchToken(config);
            string second = BearerClient.FetchToken(config);
            Assert.AreEqual(first, second);
            Assert.AreEqual(1, Server.Stats()["cobuilder"] - before);
        }

        [Test]
        public void VersionMatchesHeader()
        {
            string header = File.ReadAllText(Paths.Header);
            StringAssert.Contains("#define BEARER_VERSION \"" + BearerClient.Version + "\"", header);
        }

        [Test]
        public void ProcessMapsExactlyTheLoadedCopy()
        {
            string loaded = BearerClient.LibraryPath;
            var mapped = File.ReadAllLines("/proc/self/maps").Where(l => l.Contains("libbearer"))
                .Select(l => l.Substring(l.IndexOf('/'))).Distinct().ToList();
            CollectionAssert.AreEqual(new[] { loaded }, mapped);
        }

        [Test]
        public void AsyncDoesNotBlockTheCaller()
        {
            using (var client = new BearerClient(Server.ToJson(Server.Auth0(Server.Unique("stall_ms=400")))))
            {
                var clock = Stopwatch.StartNew();
                Task<string> task = client.GetTokenAsync(CancellationToken.None);
                long returnedAfter = clock.ElapsedMilliseconds;
                Assert.That(returnedAfter, Is.LessThan(200), "GetTokenAsync returned before the request finished");
                AssertJwt(task.Result);
                Assert.That(clock.ElapsedMilliseconds, Is.GreaterThanOrEqualTo(350));
                Assert.AreEqual(task.Result, client.GetTokenAsync().Result);
                Assert.AreEqual("Bearer " + task.Result, client.GetAuthorizationHeaderAsync().Result);
                Assert.AreEqual(task.Result, client.GetTokenResponseAsync().Result.AccessToken);
                Assert.AreEqual(task.Result.Length > 0, BearerClient.FetchTokenAsync(Server.ToJson(Server.Auth0())).Result.Length > 0);
            }
        }

        [Test]
        public void AsyncCancellation()
        {
            using (var client = new BearerClient(Server.ToJson(Server.Auth0(Server.Unique("stall_ms=1500")))))
            using (var cts = new CancellationTokenSource())
            {
                Task<string> task = client.GetTokenAsync(cts.Token);
                cts.CancelAfter(100);
                var clock = Stopwatch.StartNew();
                var e = Assert.Throws<AggregateException>(() => task.Wait());
                Assert.IsInstanceOf<TaskCanceledException>(e.InnerException);
                Assert.That(clock.ElapsedMilliseconds, Is.LessThan(1000), "cancel completes the task at once");
                Assert.Throws<OperationCanceledException>(() => client.GetTokenAsync(cts.Token));
            }
        }

        [Test]
        public void AsyncErrorIsABearerException()
        {
            var config = Server.Auth0();
            config["client_secret"] = "wrong";
            using (var client = new BearerClient(config))
            {
                var e = Assert.Throws<AggregateException>(() => client.GetTokenAsync().Wait());
                Assert.AreEqual(BearerStatus.Rejected, ((BearerException)e.InnerException).Code);
            }
        }
    }
}
