using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Bearer.Tests
{
    /// <summary>The device authorization grant (RFC 8628) against the suite's server: the test
    /// plays the user through its POST /_device switch.</summary>
    [TestFixture]
    public class DeviceTests
    {
        static Dictionary<string, object> Config(string query = "interval=0") { return Server.Device(query); }

        static void User(string userCode, string action) { Server.DeviceUser(userCode, action); }

        /// <summary>Runs <paramref name="action"/> on another thread after <paramref name="delayMs"/>.</summary>
        static Thread Later(int delayMs, Action action)
        {
            var thread = new Thread(() => { Thread.Sleep(delayMs); action(); }) { IsBackground = true };
            thread.Start();
            return thread;
        }

        static void AssertTokens(TokenResponse tokens)
        {
            StringAssert.StartsWith("eyJ", tokens.AccessToken);
            Assert.IsNotNull(tokens.RefreshToken, "offline_access gives a refresh token");
            Assert.AreEqual("Bearer", tokens.TokenType);
        }

        [Test]
        public void StartShowsTheCodesAndAnApprovalFromAnotherThreadEndsThePoll()
        {
            long devices = Server.Stat("device"), polls = Server.Stat("device_polls");
            using (BearerDevice device = BearerDevice.Start(Config()))
            {
                StringAssert.IsMatch("^[A-Z]{4}-[A-Z]{4}$", device.UserCode);
                Assert.AreEqual(Server.Base + "/activate", device.VerificationUri);
                Assert.AreEqual(Server.Base + "/activate?user_code=" + device.UserCode, device.VerificationUriComplete);
                Assert.AreEqual(900, device.ExpiresIn);
                Assert.AreEqual(0, device.Interval);
                Assert.AreEqual(devices + 1, Server.Stat("device"), "one device code request");
                StringAssert.Contains(device.UserCode, device.ToString());

                Thread user = Later(150, () => User(device.UserCode, "approve"));
                AssertTokens(device.Poll());
                user.Join();
            }
            Assert.That(Server.Stat("device_polls") - polls, Is.GreaterThanOrEqualTo(1));
        }

        [Test]
        public void StartTakesJsonText()
        {
            using (BearerDevice device = BearerDevice.Start(Server.ToJson(Config())))
            {
                User(device.UserCode, "approve");
                AssertTokens(device.Poll());
                Assert.IsFalse(device.IsDisposed);
            }
        }

        [Test]
        public void PollAsyncReturnsTheTokens()
        {
            using (BearerDevice device = BearerDevice.Start(Config()))
            {
                Task<TokenResponse> poll = device.PollAsync();
                Assert.IsFalse(poll.IsCompleted, "the caller is not blocked");
                User(device.UserCode, "approve");
                Assert.IsTrue(poll.Wait(10000), "the poll ends after the approval");
                AssertTokens(poll.Result);
            }
        }

        [Test]
        public void DenyIsAuthorizationDenied()
        {
            using (BearerDevice device = BearerDevice.Start(Config()))
            {
                Later(100, () => User(device.UserCode, "deny"));
                var e = Assert.Throws<BearerException>(() => device.Poll());
                Assert.AreEqual("urn:bearer:problem:authorization-denied", e.Type, e.Message);
                Assert.AreEqual(BearerStatus.Rejected, e.Code);
                Assert.AreEqual(e.Title + ": " + e.Detail, e.Message);
            }
        }

        [Test]
        public void ACodeNobodyApprovesExpires()
        {
            using (BearerDevice device = BearerDevice.Start(Config("interval=0&expires_in=1")))
            {
                Assert.AreEqual(1, device.ExpiresIn);
                var e = Assert.Throws<BearerException>(() => device.Poll());
                Assert.AreEqual("urn:bearer:problem:device-code-expired", e.Type, e.Message);
                Assert.AreEqual(BearerStatus.Rejected, e.Code);
            }
        }

        static void AssertCancelled(OperationCanceledException e)
        {
            var problem = e.InnerException as BearerException;
            Assert.IsNotNull(problem, "the library's problem is the inner exception");
            Assert.AreEqual("urn:bearer:problem:cancelled", problem.Type);
            Assert.AreEqual(BearerStatus.Cancelled, problem.Code);
            Assert.AreEqual(9, (int)problem.Code);
        }

        [Test]
        public void CancelFromAnotherThreadEndsThePollAtOnce()
        {
            using (BearerDevice device = BearerDevice.Start(Config("interval=1")))
            {
                var watch = new Stopwatch();
                Later(200, () => { watch.Start(); device.Cancel(); });
                var e = Assert.Throws<OperationCanceledException>(() => device.Poll());
                watch.Stop();
                AssertCancelled(e);
                Assert.That(watch.ElapsedMilliseconds, Is.LessThan(500), "the poll returned at once");
                // Every later poll is cancelled too, at once; cancelling again is harmless.
                device.Cancel();
                AssertCancelled(Assert.Throws<OperationCanceledException>(() => device.Poll()));
            }
        }

        [Test]
        public void CancellingPollAsyncCancelsThePoll()
        {
            using (BearerDevice device = BearerDevice.Start(Config("interval=1")))
            using (var cts = new CancellationTokenSource())
            {
                Task<TokenResponse> poll = device.PollAsync(cts.Token);
                Thread.Sleep(200);
                var watch = Stopwatch.StartNew();
                cts.Cancel();
                try { poll.Wait(5000); }
                catch (AggregateException e) { Assert.IsInstanceOf<OperationCanceledException>(e.InnerException); }
                Assert.That(watch.ElapsedMilliseconds, Is.LessThan(500), "the poll returned at once");
                Assert.IsTrue(poll.IsCanceled, "the task ends as cancelled, not faulted");
                // The native sign-in was cancelled, not only the task.
                AssertCancelled(Assert.Throws<OperationCanceledException>(() => device.Poll()));
            }
        }

        /// <summary>Cancel() rather than the token: awaiting the task throws the cancellation too.</summary>
        [Test]
        public void CancelDuringPollAsyncEndsItWithACancellation()
        {
            using (BearerDevice device = BearerDevice.Start(Config("interval=1")))
            {
                Task<TokenResponse> poll = device.PollAsync();
                Thread.Sleep(200);
                device.Cancel();
                var e = Assert.Throws<AggregateException>(() => poll.Wait(5000));
                Assert.IsInstanceOf<OperationCanceledException>(e.InnerException);
                AssertCancelled((OperationCanceledException)e.InnerException);
            }
        }

        /// <summary>With an issuer, the discovery document names the device endpoint.</summary>
        [Test]
        public void AnIssuerLeadsToTheDeviceEndpoint()
        {
            var config = Config();
            config.Remove("device_authorization_url");
            config.Remove("token_url");
            config["issuer"] = Server.Base + "/";
            long devices = Server.Stat("device");
            using (BearerDevice device = BearerDevice.Start(config))
            {
                Assert.AreEqual(Server.Base + "/activate", device.VerificationUri);
                Assert.AreEqual(devices + 1, Server.Stat("device"));
                Assert.That(device.Interval, Is.GreaterThan(0), "the server's own interval, without the test switch");
            }
        }

        [Test]
        public void AnAlreadyCancelledTokenCancelsBeforeAnyPoll()
        {
            long polls = Server.Stat("device_polls");
            using (BearerDevice device = BearerDevice.Start(Config()))
            {
                Task<TokenResponse> poll = device.PollAsync(new CancellationToken(true));
                Assert.IsTrue(poll.IsCanceled);
                AssertCancelled(Assert.Throws<OperationCanceledException>(() => device.Poll()));
            }
            Assert.AreEqual(polls, Server.Stat("device_polls"), "no token request");
        }

        /// <summary>The suite's only slow test: slow_down adds 5 s to the interval.</summary>
        [Test]
        public void SlowDownIsHonoured()
        {
            using (BearerDevice device = BearerDevice.Start(Config()))
            {
                User(device.UserCode, "slow_down");
                User(device.UserCode, "approve");
                var watch = Stopwatch.StartNew();
                AssertTokens(device.Poll());
                Assert.That(watch.Elapsed.TotalSeconds, Is.GreaterThanOrEqualTo(4.5), "waited the 5 s slow_down adds");
            }
        }

        [Test]
        public void DisposingDuringAPollCancelsItAndFreesAfter()
        {
            BearerDevice device = BearerDevice.Start(Config("interval=1"));
            Later(200, device.Dispose);
            AssertCancelled(Assert.Throws<OperationCanceledException>(() => device.Poll()));
            Assert.IsTrue(device.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => device.Poll());
            Assert.Throws<ObjectDisposedException>(() => device.PollAsync());
            device.Cancel(); // nothing left to cancel
            device.Dispose();
            device.Close();
            StringAssert.Contains("disposed", device.ToString());
        }

        [Test]
        public void OnePollAtATime()
        {
            using (BearerDevice device = BearerDevice.Start(Config()))
            {
                Task<TokenResponse> first = device.PollAsync();
                Thread.Sleep(200);
                Assert.Throws<InvalidOperationException>(() => device.Poll());
                User(device.UserCode, "approve");
                Assert.IsTrue(first.Wait(10000));
                AssertTokens(first.Result);
            }
        }

        [Test]
        public void WithoutADeviceEndpointIsInvalidConfig()
        {
            var config = Config();
            config.Remove("device_authorization_url");
            var e = Assert.Throws<BearerException>(() => BearerDevice.Start(config));
            Assert.AreEqual("urn:bearer:problem:invalid-config", e.Type, e.Message);
            Assert.AreEqual(BearerStatus.InvalidConfig, e.Code);
            Assert.AreEqual("device_authorization_url", e.Extensions["key"]);
        }

        [Test]
        public void NullConfiguration()
        {
            Assert.Throws<ArgumentNullException>(() => BearerDevice.Start((string)null));
            Assert.Throws<ArgumentNullException>(() => BearerDevice.Start((IDictionary<string, object>)null));
        }
    }
}
