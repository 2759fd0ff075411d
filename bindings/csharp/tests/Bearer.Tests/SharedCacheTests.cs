using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
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
        Process redis;

        [SetUp]
        public void MakeTempDir() { dir = Child.TempDir(); }

        [TearDown]
        public void RemoveTempDir()
        {
            StopRedis();
            Directory.Delete(dir, true);
        }

        /// <summary>A child that makes a client from the configuration and prints its token;
        /// BEARER_CACHE is <paramref name="bearerCache"/>, or unset when null.</summary>
        static string ChildToken(string config, string bearerCache, string xdgCacheHome = null)
        {
            var env = new Dictionary<string, string> { { "BEARER_CACHE", bearerCache } };
            if (xdgCacheHome != null) env["XDG_CACHE_HOME"] = xdgCacheHome;
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

        /// <summary>Starts a real redis-server of the test's own on a free loopback port
        /// (stopped by its PID in the teardown, passed or failed) and returns its URL.</summary>
        string StartRedis()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var info = new ProcessStartInfo("/usr/bin/redis-server",
                "--port " + port + " --bind 127.0.0.1 --save \"\" --appendonly no")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            redis = Process.Start(info);
            redis.OutputDataReceived += (sender, e) => { };
            redis.ErrorDataReceived += (sender, e) => { };
            redis.BeginOutputReadLine();
            redis.BeginErrorReadLine();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    using (var client = new TcpClient())
                    {
                        if (client.ConnectAsync(IPAddress.Loopback, port).Wait(1000))
                        {
                            var stream = client.GetStream();
                            stream.ReadTimeout = 2000;
                            var ping = Encoding.ASCII.GetBytes("PING\r\n");
                            stream.Write(ping, 0, ping.Length);
                            var reply = new byte[5];
                            int n = 0, got;
                            while (n < reply.Length && (got = stream.Read(reply, n, reply.Length - n)) > 0) n += got;
                            if (n == 5 && Encoding.ASCII.GetString(reply) == "+PONG")
                                return "redis://127.0.0.1:" + port + "/0";
                        }
                    }
                }
                catch (AggregateException) { }
                catch (SocketException) { }
                catch (IOException) { }
                Assert.IsFalse(redis.HasExited, "redis-server exited early");
                Thread.Sleep(50);
            }
            Assert.Fail("redis-server did not answer PING within 10 s");
            return null;
        }

        /// <summary>Stops the test's redis-server by its PID (SIGTERM) and reaps it.</summary>
        void StopRedis()
        {
            if (redis == null) return;
            if (!redis.HasExited)
            {
                Child.Run("kill", "-TERM " + redis.Id, dir);
                if (!redis.WaitForExit(10000)) redis.Kill();
            }
            redis.WaitForExit();
            redis.Dispose();
            redis = null;
        }

        [Test]
        public void TwoProcessesShareOneTokenThroughRedis()
        {
            var config = Server.Auth0();
            config["cache"] = StartRedis();
            string json = Server.ToJson(config);
            // Each child a host of its own: no shared files, only Redis.
            string hostA = Directory.CreateDirectory(Path.Combine(dir, "host-a")).FullName;
            string hostB = Directory.CreateDirectory(Path.Combine(dir, "host-b")).FullName;
            long before = Server.Stat("auth0");
            string first = ChildToken(json, null, hostA);
            string second = ChildToken(json, null, hostB);
            Assert.That(first == second, "the second process got a token of its own");
            Assert.AreEqual(1, Server.Stat("auth0") - before);
        }
    }
}
