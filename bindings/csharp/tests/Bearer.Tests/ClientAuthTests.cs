using System;
using System.Collections.Generic;
using System.IO;
using NUnit.Framework;

namespace Bearer.Tests
{
    /// <summary>What every refusal of this file shares: "title: detail", and no line of a key
    /// file anywhere in it (checked with IsFalse, whose failure message shows no key).</summary>
    internal static class KeyMaterial
    {
        static readonly string[] Files =
        {
            "tests/keys/rsa.key", "tests/keys/rsa-pkcs1.key", "tests/keys/ec.key", "tests/keys/ec-sec1.key",
            "tests/keys/other.key", "tests/keys/encrypted.key", "tests/tls/client.key", "tests/tls/self-signed.key",
        };

        /// <summary>The base64 lines of the private keys (the BEGIN/END lines are not secret).</summary>
        static readonly List<string> Lines = Load();

        static List<string> Load()
        {
            var lines = new List<string>();
            foreach (string file in Files)
                foreach (string line in File.ReadAllLines(Paths.RepoFile(file)))
                    if (line.Trim().Length > 0 && !line.StartsWith("-----")) lines.Add(line.Trim());
            return lines;
        }

        internal static void AssertNone(BearerException e)
        {
            Assert.AreEqual(e.Title + ": " + e.Detail, e.Message);
            string all = e.Message + "\n" + e.ToString() + "\n" + e.ProblemJson;
            foreach (var pair in e.Extensions) all += "\n" + Convert.ToString(pair.Value);
            int shown = 0;
            foreach (string line in Lines) if (all.Contains(line)) shown++;
            Assert.AreEqual(0, shown, "lines of a key file in the problem");
            Assert.IsFalse(all.Contains("PRIVATE KEY-----"), "a PEM block in the problem");
        }

        /// <summary>The problem of a configuration, through a client and through the one-shot call,
        /// which must agree.</summary>
        internal static BearerException Refusal(Dictionary<string, object> config)
        {
            var e = Assert.Throws<BearerException>(() =>
            {
                using (var client = new BearerClient(config)) client.GetToken();
            });
            var oneShot = Assert.Throws<BearerException>(() => BearerClient.FetchToken(Server.ToJson(config)));
            Assert.AreEqual(e.Type, oneShot.Type, "one-shot and client agree");
            AssertNone(e);
            AssertNone(oneShot);
            return e;
        }

        internal static void AssertInvalidConfig(BearerException e, string key)
        {
            Assert.AreEqual("urn:bearer:problem:invalid-config", e.Type, e.Message);
            Assert.AreEqual(BearerStatus.InvalidConfig, e.Code);
            Assert.AreEqual(key, e.Extensions["key"], e.Message);
        }

        internal static void AssertUnauthorized(BearerException e)
        {
            Assert.AreEqual("urn:bearer:problem:unauthorized", e.Type, e.Message);
            Assert.AreEqual(BearerStatus.Rejected, e.Code);
            Assert.AreEqual(401, e.Status);
        }

        internal static string Subject(TokenResponse response)
        {
            return (string)Browser.Claims(response.AccessToken)["sub"];
        }
    }

    /// <summary>private_key_jwt (RFC 7523) against the suite's server, which knows the public
    /// halves of tests/keys/rsa.key and ec.key for "jwt-client" and refuses a replayed jti.</summary>
    [TestFixture]
    public class PrivateKeyJwtTests
    {
        static Dictionary<string, object> Config(string key = "tests/keys/rsa.key")
        {
            return new Dictionary<string, object>
            {
                { "client_id", "jwt-client" },
                { "client_auth", "private_key_jwt" },
                { "private_key_file", Paths.RepoFile(key) },
                { "audience", "https://beeapp.open-cosmos.com" },
                // No query: the assertion's aud is the token URL as configured, and the server
                // wants its token endpoint. Each test's client has a cache of its own.
                { "token_url", Server.Base + "/oauth/token" },
            };
        }

        [TestCase("tests/keys/rsa.key", null)]
        [TestCase("tests/keys/rsa-pkcs1.key", null)]
        [TestCase("tests/keys/rsa.key", "RS256")]
        [TestCase("tests/keys/rsa.key", "PS256")]
        [TestCase("tests/keys/ec.key", null)]
        [TestCase("tests/keys/ec-sec1.key", "ES256")]
        public void SignedAssertionGetsAToken(string key, string alg)
        {
            var config = Config(key);
            if (alg != null) config["assertion_alg"] = alg;
            using (var client = new BearerClient(config))
                Assert.AreEqual("jwt-client@clients", KeyMaterial.Subject(client.GetTokenResponse()));
        }

        [Test]
        public void OneShotAndKeyIdAndIssuerAudience()
        {
            var config = Config();
            config["key_id"] = "test-key-1";
            config["assertion_audience"] = "issuer";
            config["issuer"] = Server.Base + "/";
            Assert.AreEqual("jwt-client@clients", KeyMaterial.Subject(BearerClient.FetchTokenResponse(config)));
        }

        /// <summary>A fresh assertion for every request: the server refuses a jti it has seen.</summary>
        [Test]
        public void TwoTokensInARowEachWithItsOwnAssertion()
        {
            using (var client = new BearerClient(Config()))
            {
                long before = Server.Stat("auth0");
                string first = client.GetToken();
                Assert.IsTrue(client.TokenRefused(first), "the refusal drops the cached token");
                string second = client.GetToken();
                Assert.AreNotEqual(first, second);
                Assert.AreEqual(2, Server.Stat("auth0") - before, "two token requests");
                Assert.AreEqual("jwt-client@clients", Browser.Claims(second)["sub"]);
            }
        }

        [Test]
        public void AKeyTheServerDoesNotKnowIsUnauthorized()
        {
            var e = KeyMaterial.Refusal(Config("tests/keys/other.key"));
            KeyMaterial.AssertUnauthorized(e);
        }

        [TestCase("tests/keys/encrypted.key")]
        [TestCase("tests/keys/rsa.pub")]
        [TestCase("tests/keys/ec.pub")]
        [TestCase("tests/keys/no-such.key")]
        public void AFileWithoutAUsableKeyIsInvalidConfig(string key)
        {
            var e = KeyMaterial.Refusal(Config(key));
            KeyMaterial.AssertInvalidConfig(e, "private_key_file");
        }

        [Test]
        public void AnAlgorithmThatDoesNotSuitTheKeyIsInvalidConfig()
        {
            var config = Config();
            config["assertion_alg"] = "ES256";
            KeyMaterial.AssertInvalidConfig(KeyMaterial.Refusal(config), "assertion_alg");
        }

        [Test]
        public void ASecretNextToTheKeyIsInvalidConfig()
        {
            var config = Config();
            config["client_secret"] = "demo-secret";
            KeyMaterial.AssertInvalidConfig(KeyMaterial.Refusal(config), "client_secret");
        }
    }

    /// <summary>Mutual TLS (RFC 8705) against a server of its own with TLS listeners: Q asks
    /// no client certificate, R requires one.</summary>
    [TestFixture]
    public class MutualTlsTests
    {
        ServerProcess server;

        [TestFixtureSetUp]
        public void StartTlsServer() { server = new ServerProcess(tls: true); }

        [TestFixtureTearDown]
        public void StopTlsServer() { if (server != null) server.Dispose(); }

        string MutualTlsUrl { get { return "https://127.0.0.1:" + server.MutualTlsPort + "/oauth/token" + Server.Unique(); } }

        Dictionary<string, object> Config(string clientId = "mtls-client", string auth = "tls_client_auth",
                                          string cert = "client")
        {
            return new Dictionary<string, object>
            {
                { "client_id", clientId },
                { "client_auth", auth },
                { "client_cert_file", Paths.RepoFile("tests/tls/" + cert + ".pem") },
                { "client_key_file", Paths.RepoFile("tests/tls/" + cert + ".key") },
                { "audience", "https://beeapp.open-cosmos.com" },
                { "ca_file", Paths.RepoFile("tests/tls/ca.pem") },
                { "token_url", MutualTlsUrl },
            };
        }

        [Test]
        public void CertificateFromTheCaGetsAToken()
        {
            using (var client = new BearerClient(Config()))
                Assert.AreEqual("mtls-client@clients", KeyMaterial.Subject(client.GetTokenResponse()));
        }

        [Test]
        public void SelfSignedCertificateGetsAToken()
        {
            var config = Config("mtls-self-signed", "self_signed_tls_client_auth", "self-signed");
            Assert.AreEqual("mtls-self-signed@clients", KeyMaterial.Subject(BearerClient.FetchTokenResponse(config)));
        }

        /// <summary>With an issuer on the plain HTTPS listener, the discovery document's
        /// mtls_endpoint_aliases leads to the mutual-TLS listener.</summary>
        [Test]
        public void DiscoveryFollowsTheMutualTlsAlias()
        {
            var config = Config();
            config.Remove("token_url");
            config["issuer"] = "https://127.0.0.1:" + server.HttpsPort + "/";
            using (var client = new BearerClient(config))
                Assert.AreEqual("mtls-client@clients", KeyMaterial.Subject(client.GetTokenResponse()));
        }

        [Test]
        public void TheSelfSignedCertificateForTheCaClientIsUnauthorized()
        {
            var e = KeyMaterial.Refusal(Config("mtls-client", "tls_client_auth", "self-signed"));
            KeyMaterial.AssertUnauthorized(e);
        }

        [Test]
        public void AListenerThatAsksNoCertificateIsUnauthorized()
        {
            var config = Config();
            config["token_url"] = "https://127.0.0.1:" + server.HttpsPort + "/oauth/token" + Server.Unique();
            KeyMaterial.AssertUnauthorized(KeyMaterial.Refusal(config));
        }

        [Test]
        public void ACertificateWithoutItsKeyIsInvalidConfig()
        {
            var config = Config();
            config.Remove("client_key_file");
            KeyMaterial.AssertInvalidConfig(KeyMaterial.Refusal(config), "client_key_file");
        }
    }
}
