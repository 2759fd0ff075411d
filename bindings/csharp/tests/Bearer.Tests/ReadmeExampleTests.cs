using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Bearer.Tests
{
    /// <summary>Extracts the first ```csharp block of README.md, compiles it with mcs and runs it
    /// as written, in a folder holding data_cosmos_api_credentials.json for the local server.</summary>
    [TestFixture]
    public class ReadmeExampleTests
    {
        [Test]
        public void ExampleRunsAsWritten()
        {
            string readme = File.ReadAllText(Path.Combine(Paths.Binding, "README.md"));
            Match block = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline);
            Assert.IsTrue(block.Success, "README has a csharp block");

            string dir = Child.TempDir();
            File.WriteAllText(Path.Combine(dir, "Program.cs"), block.Groups[1].Value);
            File.Copy(Path.Combine(Paths.Build, "Bearer.dll"), Path.Combine(dir, "Bearer.dll"));
            File.WriteAllText(Path.Combine(dir, "data_cosmos_api_credentials.json"), Server.ToJson(Server.Auth0()));

            var compiled = Child.Run("mcs", "-r:Bearer.dll -out:Example.exe Program.cs", dir);
            Assert.AreEqual(0, compiled.Item1, compiled.Item2 + compiled.Item3);

            long before = Server.Requests();
            var env = new Dictionary<string, string> { { "BEARER_LIBRARY", BearerClient.LibraryPath } };
            var run = Child.Run("mono", "Example.exe", dir, env);
            Assert.AreEqual(0, run.Item1, run.Item3);
            string token = run.Item2.Trim();
            StringAssert.StartsWith("eyJ", token);
            Assert.AreEqual(3, token.Split('.').Length);
            Assert.AreEqual(1, Server.Requests() - before);
            Directory.Delete(dir, true);
        }

        static string Block(string containing)
        {
            string readme = File.ReadAllText(Path.Combine(Paths.Binding, "README.md"));
            foreach (Match block in Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline))
                if (block.Groups[1].Value.Contains(containing)) return block.Groups[1].Value;
            Assert.Fail("README has a csharp block with " + containing);
            return null;
        }

        /// <summary>The HttpClient example compiles as written and runs with its API URL pointed at
        /// the local server's protected resource.</summary>
        [Test]
        public void HttpClientExampleRuns()
        {
            const string api = "https://app.open-cosmos.com/api/data/v0/stac/collections";
            string source = Block("new BearerHandler(");
            StringAssert.Contains(api, source);
            string dir = Child.TempDir();
            File.WriteAllText(Path.Combine(dir, "Program.cs"), source.Replace(api, Server.Base + "/api/data/v0/stac/collections"));
            File.Copy(Path.Combine(Paths.Build, "Bearer.dll"), Path.Combine(dir, "Bearer.dll"));
            File.Copy(Path.Combine(Paths.Build, "Bearer.Http.dll"), Path.Combine(dir, "Bearer.Http.dll"));
            File.WriteAllText(Path.Combine(dir, "data_cosmos_api_credentials.json"), Server.ToJson(Server.Auth0()));
            var compiled = Child.Run("mcs", "-r:Bearer.dll -r:Bearer.Http.dll -r:System.Net.Http -out:Example.exe Program.cs", dir);
            Assert.AreEqual(0, compiled.Item1, compiled.Item2 + compiled.Item3);
            var run = Child.Run("mono", "Example.exe", dir, new Dictionary<string, string> { { "BEARER_LIBRARY", BearerClient.LibraryPath } });
            Assert.AreEqual(0, run.Item1, run.Item3);
            var echo = Json.ParseObject(run.Item2.Trim());
            Assert.AreEqual("demo-client@clients", echo["sub"]);
            Assert.AreEqual("/api/data/v0/stac/collections", echo["path"]);
            Directory.Delete(dir, true);
        }

        /// <summary>The web-app fragment compiles inside a method that provides what it assumes.</summary>
        [Test]
        public void WebAppSignInFragmentCompiles()
        {
            string dir = Child.TempDir();
            File.WriteAllText(Path.Combine(dir, "Fragment.cs"),
                "using System.Collections.Generic;\nusing Bearer;\nstatic class WebApp {\n"
                + "static void Redirect(string url) { }\n"
                + "static void Routes(string config, IDictionary<string, object> session, string callbackUrl) {\n"
                + Block("AuthorizeStart") + "}\n}\n");
            File.Copy(Path.Combine(Paths.Build, "Bearer.dll"), Path.Combine(dir, "Bearer.dll"));
            var compiled = Child.Run("mcs", "-target:library -r:Bearer.dll -out:Fragment.dll Fragment.cs", dir);
            Assert.AreEqual(0, compiled.Item1, compiled.Item2 + compiled.Item3);
            Directory.Delete(dir, true);
        }

        /// <summary>The private_key_jwt fragment runs inside a Main, with the test key for its key
        /// file and the local server's token URL added.</summary>
        [Test]
        public void PrivateKeyJwtFragmentRuns()
        {
            const string keyFile = "\"/etc/app/bearer-rsa.key\"";
            const string audience = "{ \"audience\", \"https://beeapp.open-cosmos.com\" }";
            string fragment = Block("private_key_jwt");
            StringAssert.Contains(keyFile, fragment);
            StringAssert.Contains(audience, fragment);
            fragment = fragment.Replace(keyFile, "@\"" + Paths.RepoFile("tests/keys/rsa.key") + "\"")
                .Replace(audience, audience + ", { \"token_url\", \"" + Server.Base + "/oauth/token\" }");
            string dir = Child.TempDir();
            File.WriteAllText(Path.Combine(dir, "Program.cs"),
                "using System;\nusing System.Collections.Generic;\nusing Bearer;\nstatic class Program {\n"
                + "static void Main() {\n" + fragment + "}\n}\n");
            File.Copy(Path.Combine(Paths.Build, "Bearer.dll"), Path.Combine(dir, "Bearer.dll"));
            var compiled = Child.Run("mcs", "-r:Bearer.dll -out:Example.exe Program.cs", dir);
            Assert.AreEqual(0, compiled.Item1, compiled.Item2 + compiled.Item3);
            var run = Child.Run("mono", "Example.exe", dir, new Dictionary<string, string> { { "BEARER_LIBRARY", BearerClient.LibraryPath } });
            Assert.AreEqual(0, run.Item1, run.Item3);
            Assert.AreEqual("jwt-client@clients", Browser.Claims(run.Item2.Trim())["sub"]);
            Directory.Delete(dir, true);
        }

        /// <summary>The device program runs as written; the test reads the code it prints and
        /// approves it as the user would.</summary>
        [Test]
        public void DeviceSignInExampleRunsAsWritten()
        {
            string dir = Child.TempDir();
            File.WriteAllText(Path.Combine(dir, "DeviceSignIn.cs"), Block("BearerDevice.Start"));
            File.Copy(Path.Combine(Paths.Build, "Bearer.dll"), Path.Combine(dir, "Bearer.dll"));
            File.WriteAllText(Path.Combine(dir, "device_app.json"), Server.ToJson(Server.Device()));
            var compiled = Child.Run("mcs", "-r:Bearer.dll -out:DeviceSignIn.exe DeviceSignIn.cs", dir);
            Assert.AreEqual(0, compiled.Item1, compiled.Item2 + compiled.Item3);

            var info = new ProcessStartInfo("mono", "DeviceSignIn.exe")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = dir,
            };
            info.EnvironmentVariables["BEARER_LIBRARY"] = BearerClient.LibraryPath;
            using (var p = Process.Start(info))
            {
                var err = p.StandardError.ReadToEndAsync();
                string first = p.StandardOutput.ReadLine();
                Assert.IsNotNull(first, "the program printed the code; stderr: " + (p.HasExited ? err.Result : ""));
                StringAssert.StartsWith("Open " + Server.Base + "/activate and enter ", first);
                Server.DeviceUser(first.Substring(first.LastIndexOf(' ') + 1), "approve");
                string rest = p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(30000)) { p.Kill(); Assert.Fail("the device program did not finish"); }
                Assert.AreEqual(0, p.ExitCode, err.Result);
                StringAssert.StartsWith("eyJ", rest.Trim());
            }
            Directory.Delete(dir, true);
        }

        /// <summary>The login program runs as written; the test reads the URL it prints and plays the browser.</summary>
        [Test]
        public void LoopbackLoginExampleRunsAsWritten()
        {
            string dir = Child.TempDir();
            File.WriteAllText(Path.Combine(dir, "SignIn.cs"), Block("BearerLogin.Start"));
            File.Copy(Path.Combine(Paths.Build, "Bearer.dll"), Path.Combine(dir, "Bearer.dll"));
            var config = Server.Native();
            config.Remove("redirect_uri");
            File.WriteAllText(Path.Combine(dir, "native_app.json"), Server.ToJson(config));
            var compiled = Child.Run("mcs", "-r:Bearer.dll -out:SignIn.exe SignIn.cs", dir);
            Assert.AreEqual(0, compiled.Item1, compiled.Item2 + compiled.Item3);

            var info = new ProcessStartInfo("mono", "SignIn.exe")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = dir,
            };
            info.EnvironmentVariables["BEARER_LIBRARY"] = BearerClient.LibraryPath;
            using (var p = Process.Start(info))
            {
                var err = p.StandardError.ReadToEndAsync();
                string first = p.StandardOutput.ReadLine();
                Assert.IsNotNull(first, "the program printed the URL; stderr: " + (p.HasExited ? err.Result : ""));
                StringAssert.StartsWith("Open " + Server.Base + "/authorize?", first);
                HttpAnswer page = Browser.Get(Browser.SignIn(first.Substring("Open ".Length)));
                Assert.AreEqual(200, page.Status);
                string rest = p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(30000)) { p.Kill(); Assert.Fail("the login program did not finish"); }
                Assert.AreEqual(0, p.ExitCode, err.Result);
                string token = rest.Trim();
                StringAssert.StartsWith("eyJ", token);
                Assert.AreEqual(3, token.Split('.').Length);
            }
            Directory.Delete(dir, true);
        }
    }
}
