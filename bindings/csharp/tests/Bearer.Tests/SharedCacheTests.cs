using System;
using System.Collections.Generic;
using System.IO;
using NUnit.Framework;

namespace Bearer.Tests
{
    /// <summary>
    /// The host tier: processes with the same credentials share one token through sealed
    /// files in a cache folder, so the server is asked once. Each child is a Mono process of
    /// its own running build/SharedCacheProbe.exe (the memory cache is per process), one
    /// after the other.
    /// </summary>
    [TestFixture]
    public class SharedCacheTests
    {
        string dir;

        [SetUp]
        public void MakeTempDir() { dir = Child.TempDir(); }

        [TearDown]
        public void RemoveTempDir() { Directory.Delete(dir, true); }

        /// <summary>A child that makes a client from the configuration and prints its token;
        /// BEARER_CACHE is <paramref name="bearerCache"/>, or unset when null.</summary>
        static string ChildToken(string config, string bearerCache)
        {
            var env = new Dictionary<string, string> { { "BEARER_CACHE", bearerCache } };
            var r = Child.Run("mono", Path.Combine(Paths.Build, "SharedCacheProbe.exe"), Paths.Build, env, config);
            Assert.AreEqual(0, r.Item1, r.Item3);
            Assert.That(r.Item2.StartsWith("eyJ", StringComparison.Ordinal), "the child printed no token");
            return r.Item2;
        }

        static void AssertTwoProcessesShare(Dictionary<string, object> config, string bearerCache)
        {
            string json = Server.ToJson(config);
            long before = Server.Stat("auth0");
            string first = ChildToken(json, bearerCache);
            string second = ChildToken(json, bearerCache);
            Assert.That(first == second, "the second process got a token of its own");
            Assert.AreEqual(1, Server.Stat("auth0") - before);
        }

        [Test]
        public void TwoProcessesShareOneTokenThroughTheCacheFolder()
        {
            string folder = Path.Combine(dir, "tokens");
            var config = Server.Auth0();
            config["cache"] = "file:" + folder;
            AssertTwoProcessesShare(config, null);
            Assert.IsNotEmpty(Directory.GetFiles(folder));
        }

        [Test]
        public void BearerCacheTurnsSharingOnWithoutTouchingTheConfig()
        {
            string folder = Path.Combine(dir, "tokens");
            var config = Server.Auth0();
            Assert.IsFalse(config.ContainsKey("cache"));
            AssertTwoProcessesShare(config, "file:" + folder);
            Assert.IsNotEmpty(Directory.GetFiles(folder));
        }
    }
}
