using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Bearer.Tests
{
    [TestFixture]
    public class ConcurrencyTests
    {
        const int Threads = 16;

        [Test]
        public void ThreadsSharingOneClientMakeOneRequest()
        {
            using (var client = new BearerClient(Server.ToJson(Server.Auth0(Server.Unique("stall_ms=300")))))
            {
                long before = Server.Requests();
                var tokens = new string[Threads];
                var errors = new Exception[Threads];
                var start = new Barrier(Threads);
                var threads = Enumerable.Range(0, Threads).Select(i => new Thread(() =>
                {
                    start.SignalAndWait();
                    try { tokens[i] = client.GetToken(); }
                    catch (Exception e) { errors[i] = e; }
                })).ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());
                Assert.That(errors, Is.All.Null);
                Assert.AreEqual(1, tokens.Distinct().Count(), "every thread got the same token");
                Assert.IsNotNull(tokens[0]);
                Assert.AreEqual(1, Server.Requests() - before, "single flight: one request");
            }
        }

        [Test]
        public void TasksSharingOneClientMakeOneRequest()
        {
            using (var client = new BearerClient(Server.ToJson(Server.Cobuilder(Server.Unique("stall_ms=300")))))
            {
                long before = Server.Requests();
                Task<string>[] tasks = Enumerable.Range(0, Threads).Select(_ => client.GetTokenAsync()).ToArray();
                Task.WaitAll(tasks);
                Assert.AreEqual(1, tasks.Select(t => t.Result).Distinct().Count());
                Assert.AreEqual(1, Server.Requests() - before);
            }
        }
    }
}
