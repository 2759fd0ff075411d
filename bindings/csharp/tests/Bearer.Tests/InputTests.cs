using System;
using System.Collections.Generic;
using System.Text;
using NUnit.Framework;

namespace Bearer.Tests
{
    [TestFixture]
    public class InputTests
    {
        [Test]
        public void NullIsArgumentNullException()
        {
            Assert.Throws<ArgumentNullException>(() => new BearerClient((string)null));
            Assert.Throws<ArgumentNullException>(() => new BearerClient((byte[])null));
            Assert.Throws<ArgumentNullException>(() => new BearerClient((IDictionary<string, object>)null));
            Assert.Throws<ArgumentNullException>(() => BearerClient.FetchToken((string)null));
            Assert.Throws<ArgumentNullException>(() => BearerClient.FetchToken((IDictionary<string, object>)null));
            Assert.Throws<ArgumentNullException>(() => BearerClient.FetchTokenResponse((string)null));
            Assert.Throws<ArgumentNullException>(() => BearerClient.FetchTokenResponse((byte[])null));
            Assert.Throws<ArgumentNullException>(() => BearerClient.FetchTokenAsync(null));
        }

        [TestCase("")]
        [TestCase("{")]
        [TestCase("[1, 2]")]
        [TestCase("{\"client_id\": 5}")]
        public void MalformedIsInvalidConfig(string config)
        {
            var e = Assert.Throws<BearerException>(() => new BearerClient(config));
            Assert.AreEqual(BearerStatus.InvalidConfig, e.Code);
            Assert.AreEqual("urn:bearer:problem:invalid-config", e.Type);
            Assert.AreEqual(400, e.Status);
            var oneShot = Assert.Throws<BearerException>(() => BearerClient.FetchToken(config));
            Assert.AreEqual(BearerStatus.InvalidConfig, oneShot.Code);
        }

        [Test]
        public void UnknownKeyIsNamed()
        {
            var config = Server.Auth0();
            config["client_secrett"] = "x";
            var e = Assert.Throws<BearerException>(() => new BearerClient(config));
            Assert.AreEqual(BearerStatus.InvalidConfig, e.Code);
            Assert.AreEqual("client_secrett", e.Extensions["key"]);
        }

        [Test]
        public void NulInsideIsRefusedBeforeTheCall()
        {
            string config = Server.ToJson(Server.Auth0()) + "\0garbage";
            var e = Assert.Throws<ArgumentException>(() => new BearerClient(config));
            StringAssert.Contains("NUL", e.Message);
            Assert.Throws<ArgumentException>(() => BearerClient.FetchToken(config));
            Assert.Throws<ArgumentException>(() => BearerClient.FetchToken(new byte[] { (byte)'{', 0, (byte)'}' }));
        }

        [Test]
        public void LoneSurrogateIsRefusedBeforeTheCall()
        {
            Assert.Throws<ArgumentException>(() => BearerClient.FetchToken("{\"client_id\":\"\uD800\"}"));
        }

        [Test]
        public void InvalidUtf8IsInvalidArgument()
        {
            byte[] bytes = { (byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}' };
            var e = Assert.Throws<BearerException>(() => BearerClient.FetchToken(bytes));
            Assert.AreEqual(BearerStatus.InvalidArgument, e.Code);
            Assert.AreEqual("urn:bearer:problem:invalid-argument", e.Type);
            var c = Assert.Throws<BearerException>(() => new BearerClient(bytes));
            Assert.AreEqual(BearerStatus.InvalidArgument, c.Code);
        }

        [Test]
        public void DisposedClientThrowsAndDisposeTwiceIsHarmless()
        {
            var client = new BearerClient(Server.ToJson(Server.Auth0()));
            Assert.IsFalse(client.IsDisposed);
            client.Dispose();
            Assert.IsTrue(client.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => client.GetToken());
            Assert.Throws<ObjectDisposedException>(() => client.GetTokenResponse());
            Assert.Throws<ObjectDisposedException>(() => client.GetAuthorizationHeader());
            Assert.Throws<ObjectDisposedException>(() => client.GetTokenAsync());
            client.Dispose();
            client.Close();
        }

        [Test]
        public void ClientWithoutDisposeIsFinalized()
        {
            // The SafeHandle's finalizer frees what was never disposed; must not crash.
            for (int i = 0; i < 1000; i++) new BearerClient(Server.ToJson(Server.Auth0()));
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}
