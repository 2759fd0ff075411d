using System;
using NUnit.Framework;

namespace Bearer.Tests
{
    /// <summary>Compare-and-invalidate: <c>TokenRefused</c> on a client and for the one-shot calls.</summary>
    [TestFixture]
    public class TokenRefusedTests
    {
        [Test]
        public void TheCurrentTokenIsDroppedAndAReplacedOneIsNot()
        {
            using (var client = new BearerClient(Server.ToJson(Server.Auth0())))
            {
                string old = client.GetToken();
                Assert.IsTrue(client.TokenRefused(old), "the current token is dropped");
                long before = Server.Requests();
                string next = client.GetToken();
                Assert.AreNotEqual(old, next);
                Assert.AreEqual(1, Server.Requests() - before, "a new token was fetched");
                Assert.IsFalse(client.TokenRefused(old), "a token already replaced drops nothing");
                Assert.AreEqual(next, client.GetToken());
            }
        }

        [Test]
        public void OneDropPerTwoSeconds()
        {
            using (var client = new BearerClient(Server.ToJson(Server.Auth0())))
            {
                Assert.IsTrue(client.TokenRefused(client.GetToken()));
                string second = client.GetToken();
                Assert.IsFalse(client.TokenRefused(second), "within the window nothing is dropped");
                Assert.AreEqual(second, client.GetToken(), "the token is kept");
            }
        }

        [Test]
        public void OneShot()
        {
            string config = Server.ToJson(Server.Auth0());
            string old = BearerClient.FetchToken(config);
            Assert.IsTrue(BearerClient.TokenRefused(config, old));
            string next = BearerClient.FetchToken(config);
            Assert.AreNotEqual(old, next);
            Assert.IsFalse(BearerClient.TokenRefused(config, old), "already replaced");
            Assert.IsFalse(BearerClient.TokenRefused(Server.Auth0(Server.Unique()), "never-issued"), "a map, and a token not cached");
        }

        [Test]
        public void InvalidArguments()
        {
            using (var client = new BearerClient(Server.ToJson(Server.Auth0())))
            {
                Assert.Throws<ArgumentNullException>(() => client.TokenRefused(null));
                Assert.Throws<ArgumentException>(() => client.TokenRefused("a\0b"));
                client.Dispose();
                Assert.Throws<ObjectDisposedException>(() => client.TokenRefused("x"));
            }
            Assert.Throws<ArgumentNullException>(() => BearerClient.TokenRefused((string)null, "x"));
            Assert.Throws<ArgumentNullException>(() => BearerClient.TokenRefused(Server.ToJson(Server.Auth0()), null));
            var e = Assert.Throws<BearerException>(() => BearerClient.TokenRefused("{", "x"));
            Assert.AreEqual(BearerStatus.InvalidConfig, e.Code);
        }
    }
}
