using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using NUnit.Framework;

namespace Bearer.Tests
{
    /// <summary>One local authorization server (`bearer serve --port 0`) for the whole suite.</summary>
    [SetUpFixture]
    public class Suite
    {
        [SetUp]
        public void StartServer() { Server.Start(); }

        [TearDown]
        public void StopServer() { Server.Stop(); }
    }

    internal static class Paths
    {
        /// <summary>bindings/csharp: the test assembly sits in its build/ folder.</summary>
        internal static readonly string Binding =
            Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(Paths).Assembly.Location), ".."));
        internal static readonly string Build = Path.Combine(Binding, "build");
        internal static readonly string Repo = Path.GetFullPath(Path.Combine(Binding, Path.Combine("..", "..")));
        internal static readonly string Header = Path.Combine(Repo, Path.Combine("include", "bearer.h"));
        internal static readonly string ServerExe = Path.Combine(Repo, Path.Combine("target", Path.Combine("release", "bearer")));

        /// <summary>A file of the checkout, from a path written with '/'.</summary>
        internal static string RepoFile(string relative)
        {
            return Path.Combine(Repo, relative.Replace('/', Path.DirectorySeparatorChar));
        }
    }

    /// <summary>A `bearer serve --port 0` process; the suite shares one (<see cref="Server"/>),
    /// and a test that needs to stop a server starts its own.</summary>
    internal sealed class ServerProcess : IDisposable
    {
        Process process;
        internal readonly int Port;

        internal string Base { get { return "http://127.0.0.1:" + Port; } }

        /// <summary>With <paramref name="tls"/>, also its HTTPS listener (<see cref="HttpsPort"/>,
        /// no client certificate asked) and its mutual-TLS one (<see cref="MutualTlsPort"/>).</summary>
        internal readonly int HttpsPort, MutualTlsPort;

        internal ServerProcess(bool tls = false)
        {
            string arguments = "serve --port 0";
            if (tls)
                arguments += " --tls-cert \"" + Paths.RepoFile("tests/tls/server.pem")
                    + "\" --tls-key \"" + Paths.RepoFile("tests/tls/server.key") + "\"";
            var info = new ProcessStartInfo(Paths.ServerExe, arguments)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            process = Process.Start(info);
            string first = process.StandardOutput.ReadLine();
            const string prefix = "listening on http://127.0.0.1:";
            if (first == null || !first.StartsWith(prefix))
            {
                Dispose();
                throw new InvalidOperationException("bearer serve said: " + first);
            }
            Port = int.Parse(first.Substring(prefix.Length));
            if (tls)
            {
                // The listeners come up before serve prints them; the mutual-TLS line is the last of them.
                const string https = "https listening on https://127.0.0.1:";
                const string mutual = "mutual-TLS listening on https://127.0.0.1:";
                string line;
                while (MutualTlsPort == 0 && (line = process.StandardOutput.ReadLine()) != null)
                {
                    if (line.StartsWith(https)) HttpsPort = int.Parse(line.Substring(https.Length));
                    else if (line.StartsWith(mutual)) MutualTlsPort = int.Parse(line.Substring(mutual.Length));
                }
                if (HttpsPort == 0 || MutualTlsPort == 0)
                {
                    Dispose();
                    throw new InvalidOperationException("bearer serve did not name its TLS listeners");
                }
            }
            // Keep draining its output so that it never blocks on a full pipe.
            Process running = process;
            var drain = new Thread(() => { running.StandardOutput.ReadToEnd(); }) { IsBackground = true };
            drain.Start();
            var drainErr = new Thread(() => { running.StandardError.ReadToEnd(); }) { IsBackground = true };
            drainErr.Start();
        }

        /// <summary>Stops the server; calling it again does nothing.</summary>
        public void Dispose()
        {
            if (process == null) return;
            try { if (!process.HasExited) { process.Kill(); process.WaitForExit(5000); } }
            catch (InvalidOperationException) { }
            process.Dispose();
            process = null;
        }
    }

    internal static class Server
    {
        static ServerProcess shared;
        internal static int Port;
        static int counter;

        internal static string Base { get { return "http://127.0.0.1:" + Port; } }

        internal static void Start()
        {
            shared = new ServerProcess();
            Port = shared.Port;
        }

        internal static void Stop()
        {
            if (shared == null) return;
            shared.Dispose();
            shared = null;
        }

        /// <summary>A query string no other test uses: a fresh cache entry for this token URL.</summary>
        internal static string Unique(string extra = null)
        {
            return "?t=" + Interlocked.Increment(ref counter) + "-" + Guid.NewGuid().ToString("N").Substring(0, 8)
                + (extra == null ? "" : "&" + extra);
        }

        internal static string Auth0Url(string query = null) { return Base + "/oauth/token" + (query ?? Unique()); }
        internal static string CobuilderUrl(string query = null) { return Base + "/authentication/api/v1/oauth2/token" + (query ?? Unique()); }

        internal static Dictionary<string, object> Auth0(string query = null)
        {
            return new Dictionary<string, object>
            {
                { "client_id", "demo-client" },
                { "client_secret", "demo-secret" },
                { "audience", "https://beeapp.open-cosmos.com" },
                { "grant_type", "client_credentials" },
                { "token_url", Auth0Url(query) },
            };
        }

        internal static Dictionary<string, object> Cobuilder(string query = null)
        {
            return new Dictionary<string, object>
            {
                { "clientId", "cobuilder-client" },
                { "clientSecret", "cobuilder-secret" },
                { "audienceUrl", "https://api.cobuilder.com" },
                { "token_url", CobuilderUrl(query) },
            };
        }

        internal static string ToJson(Dictionary<string, object> config) { return Json.Write(config); }

        /// <summary>GET /_stats over a plain socket (no proxy settings can interfere).</summary>
        internal static Dictionary<string, long> Stats()
        {
            using (var tcp = new TcpClient("127.0.0.1", Port))
            using (var stream = tcp.GetStream())
            {
                byte[] request = Encoding.ASCII.GetBytes("GET /_stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                stream.Write(request, 0, request.Length);
                string response = new StreamReader(stream, Encoding.UTF8).ReadToEnd();
                string body = response.Substring(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4);
                var result = new Dictionary<string, long>();
                foreach (var pair in Json.ParseObject(body.Trim())) result[pair.Key] = (long)pair.Value;
                return result;
            }
        }

        /// <summary>Token requests only (code exchanges and refreshes count under "auth0" too):
        /// /_stats has more keys ("authorize", "refresh", "discovery"), read them by name.</summary>
        internal static long Requests() { var s = Stats(); return s["auth0"] + s["cobuilder"]; }

        internal static long Stat(string key) { return Stats()[key]; }

        /// <summary>A redirect URI nobody listens on: the tests read the redirect themselves.</summary>
        internal const string AppRedirect = "http://127.0.0.1:9/callback";

        /// <summary>The public client "native-client" (PKCE, no secret) for a user flow.</summary>
        internal static Dictionary<string, object> Native(string grantType = "authorization_code")
        {
            return new Dictionary<string, object>
            {
                { "client_id", "native-client" },
                { "grant_type", grantType },
                { "audience", "https://beeapp.open-cosmos.com" },
                { "redirect_uri", AppRedirect },
                { "authorize_url", Base + "/authorize" },
                { "token_url", Base + "/oauth/token" },
            };
        }

        /// <summary>The public client "native-client" with the local server's device endpoint;
        /// <paramref name="query"/> goes on the device URL (interval=0 keeps the polls fast).</summary>
        internal static Dictionary<string, object> Device(string query = "interval=0")
        {
            return new Dictionary<string, object>
            {
                { "client_id", "native-client" },
                { "grant_type", "device_code" },
                { "device_authorization_url", Server.Base + "/oauth/device/code?" + query },
                { "token_url", Server.Base + "/oauth/token" },
                { "audience", "https://beeapp.open-cosmos.com" },
                { "scope", "openid offline_access" },
            };
        }

        /// <summary>What the user does on the other device: approve, deny or slow_down.</summary>
        internal static void DeviceUser(string userCode, string action)
        {
            using (var tcp = new TcpClient("127.0.0.1", Server.Port))
            using (var stream = tcp.GetStream())
            {
                byte[] request = Encoding.ASCII.GetBytes("POST /_device?user_code=" + Uri.EscapeDataString(userCode)
                    + "&action=" + action + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                stream.Write(request, 0, request.Length);
                string response = new StreamReader(stream, Encoding.UTF8).ReadToEnd();
                StringAssert.StartsWith("HTTP/1.1 2", response, "the server took the user's " + action);
            }
        }
    }

    /// <summary>One HTTP answer as a browser would see it, redirects not followed.</summary>
    internal sealed class HttpAnswer
    {
        internal int Status;
        internal readonly Dictionary<string, string> Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        internal string Body;
    }

    /// <summary>
    /// The "browser" of the user-flow tests: a plain HTTP/1.1 GET over a socket (no proxy,
    /// no redirects followed), so a test reads the authorization server's Location itself.
    /// </summary>
    internal static class Browser
    {
        internal static HttpAnswer Get(string url)
        {
            const string scheme = "http://";
            Assert.That(url, Is.StringStarting(scheme), "the tests only browse http://127.0.0.1");
            int slash = url.IndexOf('/', scheme.Length);
            string authority = slash < 0 ? url.Substring(scheme.Length) : url.Substring(scheme.Length, slash - scheme.Length);
            string target = slash < 0 ? "/" : url.Substring(slash);
            int hash = target.IndexOf('#');
            if (hash >= 0) target = target.Substring(0, hash); // a browser never sends the fragment
            string[] hostPort = authority.Split(':');
            using (var tcp = new TcpClient(hostPort[0], int.Parse(hostPort[1])))
            using (var stream = tcp.GetStream())
            {
                tcp.ReceiveTimeout = 15000;
                byte[] request = Encoding.ASCII.GetBytes("GET " + target + " HTTP/1.1\r\nHost: " + authority
                    + "\r\nUser-Agent: bearer-csharp-tests\r\nConnection: close\r\n\r\n");
                stream.Write(request, 0, request.Length);
                return Read(stream);
            }
        }

        static HttpAnswer Read(Stream stream)
        {
            var buffer = new MemoryStream();
            var chunk = new byte[4096];
            int headerEnd = -1;
            long contentLength = -1;
            var answer = new HttpAnswer();
            while (true)
            {
                if (headerEnd >= 0 && contentLength >= 0 && buffer.Length - headerEnd >= contentLength) break;
                int n = stream.Read(chunk, 0, chunk.Length);
                if (n <= 0) break;
                buffer.Write(chunk, 0, n);
                if (headerEnd < 0)
                {
                    string sofar = Encoding.ASCII.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
                    int end = sofar.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                    if (end < 0) continue;
                    headerEnd = end + 4;
                    string[] lines = sofar.Substring(0, end).Split(new[] { "\r\n" }, StringSplitOptions.None);
                    answer.Status = int.Parse(lines[0].Split(' ')[1]);
                    for (int i = 1; i < lines.Length; i++)
                    {
                        int colon = lines[i].IndexOf(':');
                        if (colon > 0) answer.Headers[lines[i].Substring(0, colon).Trim()] = lines[i].Substring(colon + 1).Trim();
                    }
                    string length;
                    if (answer.Headers.TryGetValue("Content-Length", out length)) contentLength = long.Parse(length);
                }
            }
            Assert.That(headerEnd, Is.GreaterThan(0), "an HTTP answer");
            answer.Body = Encoding.UTF8.GetString(buffer.GetBuffer(), headerEnd, (int)buffer.Length - headerEnd);
            return answer;
        }

        /// <summary>Opens the authorize URL: the test user is signed in at once and the server
        /// redirects back to the app; returns that Location.</summary>
        internal static string SignIn(string authorizeUrl)
        {
            HttpAnswer answer = Get(authorizeUrl);
            Assert.AreEqual(302, answer.Status, "a redirect back to the app: " + answer.Body);
            return answer.Headers["Location"];
        }

        /// <summary>A query (or fragment) parameter of a URL, decoded; null when absent.</summary>
        internal static string Param(string url, string name)
        {
            int start = url.IndexOfAny(new[] { '?', '#' });
            if (start < 0) return null;
            foreach (string pair in url.Substring(start + 1).Split('&', '#', '?'))
            {
                int eq = pair.IndexOf('=');
                string key = eq < 0 ? pair : pair.Substring(0, eq);
                if (key == name) return Uri.UnescapeDataString((eq < 0 ? "" : pair.Substring(eq + 1)).Replace('+', ' '));
            }
            return null;
        }

        /// <summary>The claims of a JWT's payload.</summary>
        internal static Dictionary<string, object> Claims(string jwt)
        {
            string part = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
            part = part.PadRight(part.Length + (4 - part.Length % 4) % 4, '=');
            return Json.ParseObject(Encoding.UTF8.GetString(Convert.FromBase64String(part)));
        }
    }

    internal static class Child
    {
        /// <summary>Runs a program and returns (exit code, stdout, stderr); a null value in
        /// <paramref name="environment"/> removes that variable, <paramref name="input"/>
        /// (when given) is its standard input.</summary>
        internal static Tuple<int, string, string> Run(string file, string arguments, string workingDirectory,
                                                     IDictionary<string, string> environment = null,
                                                     string input = null)
        {
            var info = new ProcessStartInfo(file, arguments)
            {
                UseShellExecute = false,
                RedirectStandardInput = input != null,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = workingDirectory,
            };
            info.EnvironmentVariables.Remove("BEARER_LIBRARY");
            if (environment != null)
                foreach (var pair in environment)
                {
                    if (pair.Value == null) info.EnvironmentVariables.Remove(pair.Key);
                    else info.EnvironmentVariables[pair.Key] = pair.Value;
                }
            using (var p = Process.Start(info))
            {
                if (input != null)
                {
                    p.StandardInput.Write(input);
                    p.StandardInput.Close();
                }
                var err = p.StandardError.ReadToEndAsync();
                string output = p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(60000)) { p.Kill(); Assert.Fail(file + " " + arguments + " did not finish"); }
                return Tuple.Create(p.ExitCode, output, err.Result);
            }
        }

        internal static string TempDir()
        {
            string dir = Path.Combine(Path.GetTempPath(), "bearer-cs-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            return dir;
        }
    }
}
