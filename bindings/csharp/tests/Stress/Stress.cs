using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using Bearer.Tests;

namespace Bearer.Stress
{
    /// <summary>
    /// A few thousand mixed calls through the binding, for bindings/valgrind.sh: clients made and
    /// disposed, tokens, token responses, headers, one-shot fetches, every kind of error,
    /// AuthorizeStart, private_key_jwt clients (signed, an unknown key, an encrypted one), device sign-ins (approved, cancelled, denied), and threads sharing one client. Prints what it did; exits 1 on any
    /// unexpected outcome. Built with the suite's Support.cs, so it starts the server the same way.
    /// </summary>
    public static class Program
    {
        const string Canary = "canary-SECRET-7f3a9c2e1b";
        const int Threads = 4;

        static void Check(bool condition, string what)
        {
            if (!condition) throw new InvalidOperationException(what);
        }

        static void ExpectProblem(Action call, BearerStatus code, string typeSuffix)
        {
            try
            {
                call();
            }
            catch (BearerException e)
            {
                Check(!(e.Message + e.ProblemJson + e).Contains(Canary), "the secret crossed the boundary");
                Check(e.Code == code, "code " + e.Code + ", expected " + code + ": " + e.Message);
                Check(e.Type.EndsWith(typeSuffix, StringComparison.Ordinal), "type " + e.Type + ", expected *" + typeSuffix);
                return;
            }
            throw new InvalidOperationException("no problem raised, expected " + typeSuffix);
        }

        static int ClosedPort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        public static int Main()
        {
            int calls = int.Parse(Environment.GetEnvironmentVariable("BEARER_STRESS_CALLS") ?? "3000");
            Server.Start();
            try
            {
                return Run(calls);
            }
            finally
            {
                Server.Stop();
            }
        }

        static int Run(int calls)
        {
            string dead = "http://127.0.0.1:" + ClosedPort() + "/oauth/token";
            string oneShot = Server.ToJson(Server.Cobuilder());
            var shared = new BearerClient(Server.Auth0());
            int cycles = 0;

            var ops = new Dictionary<string, KeyValuePair<int, Action>>
            {
                { "client", new KeyValuePair<int, Action>(6, () =>
                    {
                        var config = cycles++ % 2 == 0 ? Server.Auth0() : Server.Cobuilder();
                        using (var client = new BearerClient(config))
                        {
                            string token = client.GetToken();
                            Check(token.Length > 0 && client.GetToken() == token, "the client did not cache");
                            Check(client.GetAuthorizationHeader() == "Bearer " + token, "header");
                            Check(client.GetTokenResponse().AccessToken == token, "token response");
                        }
                    }) },
                { "shared", new KeyValuePair<int, Action>(3, () =>
                    {
                        string token = shared.GetToken();
                        Check(shared.GetAuthorizationHeader() == "Bearer " + token, "header");
                        Check(shared.GetTokenResponse().TokenType == "Bearer", "token response");
                    }) },
                { "one-shot", new KeyValuePair<int, Action>(2, () =>
                    Check(BearerClient.FetchToken(oneShot) == BearerClient.FetchTokenResponse(oneShot).AccessToken, "one-shot")) },
                { "refused", new KeyValuePair<int, Action>(7, () =>
                    {
                        using (var client = new BearerClient(Server.Auth0()))
                        {
                            string token = client.GetToken();
                            Check(client.TokenRefused(token), "the current token is dropped");
                            Check(client.GetToken() != token, "a new token after the drop");
                            Check(!client.TokenRefused(token), "a replaced token drops nothing");
                        }
                        Check(!BearerClient.TokenRefused(oneShot, "not-the-cached-token"), "one-shot refusal of another token");
                        ExpectProblem(() => BearerClient.TokenRefused("{\"client_id\": ", "x"), BearerStatus.InvalidConfig, ":invalid-config");
                    }) },
                { "wrong-secret", new KeyValuePair<int, Action>(1, () =>
                    {
                        var config = Server.Auth0();
                        config["client_secret"] = Canary;
                        ExpectProblem(() => BearerClient.FetchToken(config), BearerStatus.Rejected, ":unauthorized");
                    }) },
                { "closed-port", new KeyValuePair<int, Action>(2, () =>
                    {
                        var config = Server.Auth0();
                        config["token_url"] = dead;
                        config["timeout_ms"] = 2000;
                        ExpectProblem(() => { using (var c = new BearerClient(config)) c.GetToken(); },
                            BearerStatus.Unavailable, ":unreachable");
                    }) },
                { "invalid-config", new KeyValuePair<int, Action>(2, () =>
                    {
                        ExpectProblem(() => new BearerClient("{\"client_id\": ").Dispose(), BearerStatus.InvalidConfig, ":invalid-config");
                        var badKey = Server.Auth0();
                        badKey["client_secrett"] = Canary;
                        ExpectProblem(() => BearerClient.FetchToken(badKey), BearerStatus.InvalidConfig, ":invalid-config");
                    }) },
                { "invalid-utf8", new KeyValuePair<int, Action>(1, () =>
                    {
                        var bytes = new List<byte>(Encoding.ASCII.GetBytes("{\"client_id\": \""));
                        bytes.AddRange(new byte[] { 0xFF, 0xFE });
                        bytes.AddRange(Encoding.ASCII.GetBytes("\", \"client_secret\": \"" + Canary + "\"}"));
                        ExpectProblem(() => BearerClient.FetchToken(bytes.ToArray()), BearerStatus.InvalidArgument, ":invalid-argument");
                    }) },
                { "authorize", new KeyValuePair<int, Action>(2, () =>
                    {
                        var config = Server.Native();
                        var request = BearerClient.AuthorizeStart(config);
                        Check(request.Url.StartsWith(Server.Base + "/authorize?", StringComparison.Ordinal), "authorize URL");
                        string forged = Server.AppRedirect + "?code=x&state=not-" + request.State;
                        ExpectProblem(() => BearerClient.AuthorizeComplete(config, request, forged),
                            BearerStatus.InvalidArgument, ":invalid-callback");
                    }) },
                { "private-key-jwt", new KeyValuePair<int, Action>(4, () =>
                    {
                        var config = new Dictionary<string, object>
                        {
                            { "client_id", "jwt-client" },
                            { "client_auth", "private_key_jwt" },
                            { "private_key_file", Paths.RepoFile(cycles++ % 2 == 0 ? "tests/keys/rsa.key" : "tests/keys/ec.key") },
                            { "audience", "https://beeapp.open-cosmos.com" },
                            { "token_url", Server.Base + "/oauth/token" },
                        };
                        using (var client = new BearerClient(config))
                        {
                            string token = client.GetToken();
                            Check(client.TokenRefused(token) && client.GetToken() != token, "a second assertion");
                        }
                        config["private_key_file"] = Paths.RepoFile("tests/keys/other.key");
                        ExpectProblem(() => BearerClient.FetchToken(config), BearerStatus.Rejected, ":unauthorized");
                        config["private_key_file"] = Paths.RepoFile("tests/keys/encrypted.key");
                        ExpectProblem(() => new BearerClient(config).Dispose(), BearerStatus.InvalidConfig, ":invalid-config");
                    }) },
                { "device", new KeyValuePair<int, Action>(6, () =>
                    {
                        using (BearerDevice device = BearerDevice.Start(Server.Device()))
                        {
                            Server.DeviceUser(device.UserCode, "approve");
                            Check(device.Poll().RefreshToken != null, "device tokens");
                        }
                        // Cancelled from another thread while it polls, then disposed.
                        using (BearerDevice device = BearerDevice.Start(Server.Device("interval=1")))
                        {
                            var canceller = new Thread(() => { Thread.Sleep(20); device.Cancel(); });
                            canceller.Start();
                            try { device.Poll(); Check(false, "the poll was not cancelled"); }
                            catch (OperationCanceledException e)
                            {
                                Check(((BearerException)e.InnerException).Code == BearerStatus.Cancelled, "cancelled");
                            }
                            canceller.Join();
                        }
                        var denied = BearerDevice.Start(Server.Device());
                        Server.DeviceUser(denied.UserCode, "deny");
                        ExpectProblem(() => denied.Poll(), BearerStatus.Rejected, ":authorization-denied");
                        denied.Dispose();
                        var noEndpoint = Server.Device();
                        noEndpoint.Remove("device_authorization_url");
                        ExpectProblem(() => BearerDevice.Start(noEndpoint).Dispose(), BearerStatus.InvalidConfig, ":invalid-config");
                    }) },
                { "threads", new KeyValuePair<int, Action>(Threads * 10, () =>
                    {
                        var errors = new List<Exception>();
                        var pool = new List<Thread>();
                        for (int t = 0; t < Threads; t++)
                        {
                            var thread = new Thread(() =>
                            {
                                try
                                {
                                    for (int n = 0; n < 5; n++)
                                    {
                                        string token = shared.GetToken();
                                        Check(shared.GetAuthorizationHeader() == "Bearer " + token, "header in a thread");
                                    }
                                }
                                catch (Exception e)
                                {
                                    lock (errors) errors.Add(e);
                                }
                            });
                            pool.Add(thread);
                            thread.Start();
                        }
                        foreach (var thread in pool) thread.Join(60000);
                        if (errors.Count > 0) throw new InvalidOperationException("a thread failed", errors[0]);
                    }) },
            };

            string[] mix = { "client", "shared", "shared", "one-shot", "wrong-secret", "closed-port", "invalid-config",
                "invalid-utf8", "authorize", "shared", "client", "wrong-secret", "one-shot", "shared", "refused", "device", "private-key-jwt" };
            var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var failures = new List<string>();
            int done = 0;
            for (int i = 0; done < calls; i++)
            {
                string name = i % (mix.Length * 8) == mix.Length * 4 ? "threads" : mix[i % mix.Length];
                try
                {
                    ops[name].Value();
                }
                catch (Exception e)
                {
                    failures.Add(name + ": " + e.GetType().Name + ": " + e.Message);
                }
                int seen;
                counts.TryGetValue(name, out seen);
                counts[name] = seen + 1;
                done += ops[name].Key;
            }
            try
            {
                ops["threads"].Value();
            }
            catch (Exception e)
            {
                failures.Add("threads: " + e.Message);
            }
            done += ops["threads"].Key;
            shared.Dispose();
            BearerClient.GlobalCleanup();

            var summary = new List<string>();
            foreach (var pair in counts) summary.Add(pair.Key + " " + pair.Value);
            Console.WriteLine("csharp stress: " + done + " calls (" + string.Join(", ", summary.ToArray()) + "), "
                + failures.Count + " unexpected");
            for (int i = 0; i < failures.Count && i < 10; i++) Console.WriteLine("  " + failures[i]);
            return failures.Count == 0 ? 0 : 1;
        }
    }
}
