using System;
using System.Collections.Generic;
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
    }
}
