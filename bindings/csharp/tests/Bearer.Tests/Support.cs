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
    }

    internal static class Server
    {
        static Process process;
        internal static int Port;
        static int counter;

        internal static string Base { get { return "http://127.0.0.1:" + Port; } }

        internal static void Start()
        {
            var info = new ProcessStartInfo(Paths.ServerExe, "serve --port 0")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            process = Process.Start(info);
            string first = process.StandardOutput.ReadLine();
            const string prefix = "listening on http://127.0.0.1:";
            if (first == null || !first.StartsWith(prefix))
                throw new InvalidOperationException("bearer serve said: " + first);
            Port = int.Parse(first.Substring(prefix.Length));
            // Keep draining its output so that it never blocks on a full pipe.
            var drain = new Thread(() => { process.StandardOutput.ReadToEnd(); }) { IsBackground = true };
            drain.Start();
            var drainErr = new Thread(() => { process.StandardError.ReadToEnd(); }) { IsBackground = true };
            drainErr.Start();
        }

        internal static void Stop()
        {
            if (process == null) return;
            try { if (!process.HasExited) { process.Kill(); process.WaitForExit(5000); } }
            catch (InvalidOperationException) { }
            process.Dispose();
            process = null;
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

        internal static long Requests() { var s = Stats(); return s["auth0"] + s["cobuilder"]; }
    }

    internal static class Child
    {
        /// <summary>Runs a program and returns (exit code, stdout, stderr).</summary>
        internal static Tuple<int, string, string> Run(string file, string arguments, string workingDirectory,
                                                     IDictionary<string, string> environment = null)
        {
            var info = new ProcessStartInfo(file, arguments)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = workingDirectory,
            };
            info.EnvironmentVariables.Remove("BEARER_LIBRARY");
            if (environment != null)
                foreach (var pair in environment) info.EnvironmentVariables[pair.Key] = pair.Value;
            using (var p = Process.Start(info))
            {
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
