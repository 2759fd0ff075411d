using System;
using System.Collections.Generic;
using NUnit.Framework;

namespace Bearer.Tests
{
    [TestFixture]
    public class ErrorTests
    {
        /// <summary>The secret of the wrong-secret, echo and throttling tests; the whole test log is searched for it.</summary>
        const string Canary = "canary-SECRET-7f3a9c2e1b";

        /// <summary>Fetches through a client and returns what it threw, after checking the common rules.</summary>
        static BearerException Fail(Dictionary<string, object> config, string secret)
        {
            BearerException e;
            using (var client = new BearerClient(config))
                e = Assert.Throws<BearerException>(() => client.GetToken());
            var oneShot = Assert.Throws<BearerException>(() => BearerClient.FetchToken(Server.ToJson(config)));
            Assert.AreEqual(e.Type, oneShot.Type, "one-shot and client agree");
            CheckCommon(e, secret);
            return e;
        }

        static void CheckCommon(BearerException e, string secret)
        {
            Assert.AreEqual(e.Title + ": " + e.Detail, e.Message);
            Assert.IsNotNull(e.Extensions);
            if (secret != null)
            {
                // Not StringAssert.DoesNotContain: its failure message would print the secret.
                Assert.IsFalse(e.Message.Contains(secret), "the message has the secret");
                Assert.IsFalse(e.ToString().Contains(secret), "ToString() has the secret");
                Assert.IsFalse(e.ProblemJson.Contains(secret), "the problem JSON has the secret");
                foreach (var pair in e.Extensions)
                    Assert.IsFalse(Convert.ToString(pair.Value).Contains(secret), "extension " + pair.Key + " has the secret");
            }
        }

        [Test]
        public void Unauthorized401()
        {
            var config = Server.Auth0();
            config["client_secret"] = Canary;
            var e = Fail(config, Canary);
            Assert.AreEqual("urn:bearer:problem:unauthorized", e.Type);
            Assert.AreEqual(401, e.Status);
            Assert.AreEqual(BearerStatus.Rejected, e.Code);
            Assert.AreEqual(401L, e.Extensions["upstream_status"]);
            StringAssert.StartsWith(Server.Base + "/oauth/token", e.Instance);
            StringAssert.DoesNotContain("?", e.Instance, "instance drops the query");
        }

        [Test]
        public void Forbidden403()
        {
            var config = Server.Auth0();
            config["audience"] = "https://other";
            var e = Fail(config, "demo-secret");
            Assert.AreEqual("urn:bearer:problem:forbidden", e.Type);
            Assert.AreEqual(403, e.Status);
            Assert.AreEqual(BearerStatus.Rejected, e.Code);
        }

        [Test]
        public void CobuilderProblemPassedThrough400()
        {
            var config = Server.Cobuilder();
            config["audienceUrl"] = "https://nope";
            var e = Fail(config, "cobuilder-secret");
            Assert.AreEqual("https://tools.ietf.org/html/rfc9110#section-15.5.1", e.Type);
            Assert.AreEqual("Invalid audience", e.Title);
            Assert.AreEqual(400, e.Status);
            Assert.AreEqual(BearerStatus.Rejected, e.Code);
        }

        /// <summary>retries 0: waiting out Retry-After (7 s) three times would test nothing more.</summary>
        static Dictionary<string, object> RateLimited()
        {
            var config = Server.Auth0(Server.Unique("fault=rate_limit"));
            config["client_secret"] = Canary;
            config["retries"] = 0L;
            return config;
        }

        static void AssertRateLimited(BearerException e)
        {
            CheckCommon(e, Canary);
            Assert.AreEqual("urn:bearer:problem:rate-limited", e.Type);
            Assert.AreEqual(429, e.Status);
            Assert.AreEqual(BearerStatus.RateLimited, e.Code);
        }

        [Test]
        public void RateLimited429()
        {
            var e = Fail(RateLimited(), Canary);
            AssertRateLimited(e);
            Assert.AreEqual(7L, e.Extensions["retry_after"]);
        }

        [Test]
        public void A429OpensAThrottlingWindow()
        {
            using (var client = new BearerClient(RateLimited()))
            {
                long before = Server.Stat("auth0");
                AssertRateLimited(Assert.Throws<BearerException>(() => client.GetToken()));
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var second = Assert.Throws<BearerException>(() => client.GetToken());
                watch.Stop();
                AssertRateLimited(second);
                Assert.Less(watch.Elapsed.TotalSeconds, 0.5, "the throttled call waited");
                Assert.That((long)second.Extensions["retry_after"], Is.InRange(1L, 7L));
                Assert.AreEqual(1, Server.Stat("auth0") - before, "the throttled call reached the server");
            }
        }

        [Test]
        public void ServerEchoingTheSecretIsScrubbed()
        {
            var config = Server.Auth0(Server.Unique("fault=echo"));
            config["client_secret"] = Canary;
            var e = Fail(config, Canary);
            Assert.AreEqual(BearerStatus.Rejected, e.Code);
        }

        [Test]
        public void MissingKey()
        {
            var config = Server.Auth0();
            config.Remove("client_secret");
            var e = Assert.Throws<BearerException>(() => new BearerClient(config));
            CheckCommon(e, "demo-secret");
            Assert.AreEqual("urn:bearer:problem:invalid-config", e.Type);
            Assert.AreEqual(400, e.Status);
            Assert.AreEqual(BearerStatus.InvalidConfig, e.Code);
            Assert.AreEqual("client_secret", e.Extensions["key"]);
            Assert.AreEqual("#/client_secret", e.Instance);
            var oneShot = Assert.Throws<BearerException>(() => BearerClient.FetchToken(config));
            Assert.AreEqual(e.ProblemJson, oneShot.ProblemJson);
        }

        [Test]
        public void NonHttpUrl()
        {
            long before = Server.Requests();
            var config = Server.Auth0();
            config["token_url"] = "ftp://x/oauth/token";
            var e = Assert.Throws<BearerException>(() => new BearerClient(config));
            CheckCommon(e, "demo-secret");
            Assert.AreEqual("urn:bearer:problem:invalid-config", e.Type);
            Assert.AreEqual(BearerStatus.InvalidConfig, e.Code);
            Assert.AreEqual(before, Server.Requests());
        }

        [Test]
        public void InsecureUrl()
        {
            var config = Server.Auth0();
            config["token_url"] = "http://example.com/oauth/token";
            var e = Assert.Throws<BearerException>(() => BearerClient.FetchToken(config));
            CheckCommon(e, "demo-secret");
            Assert.AreEqual("urn:bearer:problem:insecure-url", e.Type);
            Assert.AreEqual(400, e.Status);
            Assert.AreEqual(BearerStatus.InvalidConfig, e.Code);
        }

        [Test]
        public void InternalPanicIsReported()
        {
            var e = Assert.Throws<BearerException>(BearerClient.TestPanic);
            CheckCommon(e, null);
            Assert.AreEqual(BearerStatus.Internal, e.Code);
            Assert.AreEqual("urn:bearer:problem:internal", e.Type);
            Assert.AreEqual(500, e.Status);
        }
    }
}
