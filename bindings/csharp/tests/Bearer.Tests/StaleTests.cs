using System;
using System.Diagnostics;
using System.Threading;
using NUnit.Framework;

namespace Bearer.Tests
{
    /// <summary>Serve-stale: a failed refresh of a still-valid token returns that token,
    /// and its problem waits in TakeRefreshProblem, once.</summary>
    [TestFixture]
    public class StaleTests
    {
        /// <summary>A 4 s token is due for refresh 3.4-3.6 s after issue and served until 3.92 s.</summary>
        static readonly TimeSpan Due = TimeSpan.FromSeconds(3.65);

        static void SleepUntil(Stopwatch sinceIssue, TimeSpan moment)
        {
            TimeSpan left = moment - sinceIssue.Elapsed;
            if (left > TimeSpan.Zero) Thread.Sleep(left);
        }

        [Test]
        public void AFailedRefreshServesTheCachedTokenAndReportsOnce()
        {
            BearerClient client;
            string token;
            Stopwatch sinceIssue;
            long expiresAt;
            using (var own = new ServerProcess())
            {
                var config = Server.Auth0();
                config["token_url"] = own.Base + "/oauth/token" + Server.Unique("expires_in=4");
                client = new BearerClient(config);
                token = client.GetToken();
                sinceIssue = Stopwatch.StartNew();
                expiresAt = client.GetTokenResponse().ExpiresAt.ToUnixTimeSeconds();
            } // the server is gone: the refresh that is due next cannot succeed
            using (client)
            {
                SleepUntil(sinceIssue, Due);
                Assert.AreEqual(token, client.GetToken());
                BearerException problem = client.TakeRefreshProblem();
                Assert.IsNotNull(problem);
                Assert.AreEqual("urn:bearer:problem:unreachable", problem.Type);
                Assert.AreEqual(BearerStatus.Unavailable, problem.Code);
                Assert.AreEqual(expiresAt, problem.Extensions["serving_cached_token_until"]);
                Assert.AreEqual(problem.Title + ": " + problem.Detail, problem.Message);
                Assert.IsNull(client.TakeRefreshProblem());

                SleepUntil(sinceIssue, TimeSpan.FromSeconds(4.1));
                var expired = Assert.Throws<BearerException>(() => client.GetToken());
                Assert.AreEqual("urn:bearer:problem:unreachable", expired.Type);
                Assert.AreEqual(BearerStatus.Unavailable, expired.Code);
            }
        }

        [Test]
        public void AHealthyClientHasNoRefreshProblem()
        {
            var client = new BearerClient(Server.Auth0());
            client.GetToken();
            Assert.IsNull(client.TakeRefreshProblem());
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => client.TakeRefreshProblem());
        }
    }
}
