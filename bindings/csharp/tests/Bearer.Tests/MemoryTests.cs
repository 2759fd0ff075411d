using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using NUnit.Framework;

namespace Bearer.Tests
{
    [TestFixture]
    public class MemoryTests
    {
        const int WarmUp = 10000;
        const int Calls = 100000;
        const long BoundBytes = 6L * 1024 * 1024; // one call kind leaking its ~350-byte string would add ~9 MB

        static long RssBytes()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            string line = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmRSS:"));
            return long.Parse(line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }

        static void Mix(BearerClient client, string flowConfig, int count)
        {
            for (int i = 0; i < count; i++)
            {
                switch (i % 5)
                {
                    case 0: client.GetToken(); break;
                    case 1: client.GetAuthorizationHeader(); break;
                    case 2: client.GetTokenResponse(); break;
                    case 3:
                        // A problem string every fifth call: invalid-config, no network.
                        try { BearerClient.FetchToken("{\"client_id\":\"x\"}"); Assert.Fail("expected a problem"); }
                        catch (BearerException) { }
                        break;
                    case 4:
                        // A client made and freed.
                        if (i % 50 == 4) new BearerClient("{\"client_id\":\"a\",\"client_secret\":\"b\",\"audience\":\"c\",\"grant_type\":\"client_credentials\"}").Dispose();
                        // A sign-in started (no network): the request JSON crosses the boundary.
                        else if (i % 10 == 9) BearerClient.AuthorizeStart(flowConfig);
                        else client.GetToken();
                        break;
                }
            }
        }

        [Test]
        public void HundredThousandCallsKeepMemoryFlat()
        {
            string flowConfig = Server.ToJson(Server.Native());
            using (var client = new BearerClient(Server.ToJson(Server.Auth0())))
            {
                Mix(client, flowConfig, WarmUp);
                long before = RssBytes();
                var clock = Stopwatch.StartNew();
                Mix(client, flowConfig, Calls);
                clock.Stop();
                long after = RssBytes();
                long growth = after - before;
                Console.WriteLine("memory: calls={0} rss_before={1:F1} MiB rss_after={2:F1} MiB growth={3:F2} MiB elapsed={4:F1} s bound={5} MiB",
                    Calls, before / 1048576.0, after / 1048576.0, growth / 1048576.0, clock.Elapsed.TotalSeconds, BoundBytes / 1048576);
                Assert.That(growth, Is.LessThan(BoundBytes));
            }
        }
    }
}
