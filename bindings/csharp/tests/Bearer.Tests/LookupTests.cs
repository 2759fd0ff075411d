using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NUnit.Framework;

namespace Bearer.Tests
{
    /// <summary>
    /// The library is loaded once per process, so each case runs build/LookupProbe.exe in
    /// a child process (its first call is version, client, fetch, authorize, complete or login: each entry point
    /// must load the library by itself).
    /// </summary>
    [TestFixture]
    public class LookupTests
    {
        static Tuple<int, string, string> Probe(string folder, string mode, string library)
        {
            var env = new Dictionary<string, string>();
            if (library != null) env["BEARER_LIBRARY"] = library;
            return Child.Run("mono", Path.Combine(folder, "LookupProbe.exe") + " " + mode, folder, env);
        }

        static List<string> Lines(string output, string prefix)
        {
            return output.Split('\n').Where(l => l.StartsWith(prefix)).Select(l => l.Substring(prefix.Length).Trim()).ToList();
        }

        static string CopyProbe(string dir)
        {
            File.Copy(Path.Combine(Paths.Build, "Bearer.dll"), Path.Combine(dir, "Bearer.dll"));
            File.Copy(Path.Combine(Paths.Build, "LookupProbe.exe"), Path.Combine(dir, "LookupProbe.exe"));
            return dir;
        }

        [TestCase("version")]
        [TestCase("client")]
        [TestCase("fetch")]
        [TestCase("authorize")]
        [TestCase("complete")]
        [TestCase("login")]
        public void EnvironmentVariableWinsAndIsTheOnlyCopyMapped(string mode)
        {
            string dir = Child.TempDir();
            string copy = Path.Combine(dir, "libbearer.so");
            File.Copy(BearerClient.LibraryPath, copy);
            var r = Probe(Paths.Build, mode, copy);
            Assert.AreEqual(0, r.Item1, r.Item3);
            Assert.AreEqual(new[] { copy }, Lines(r.Item2, "loaded "));
            // The packaged copy next to the probe must not have been mapped as well.
            CollectionAssert.AreEqual(new[] { copy }, Lines(r.Item2, "mapped "), r.Item2);
            Directory.Delete(dir, true);
        }

        [Test]
        public void MissingEnvironmentPathIsAClearError()
        {
            string dir = Child.TempDir();
            string missing = Path.Combine(dir, "nowhere", "libbearer.so");
            var r = Probe(Paths.Build, "client", missing);
            Directory.Delete(dir, true);
            Assert.AreEqual(3, r.Item1, r.Item2 + r.Item3);
            StringAssert.Contains("BEARER_LIBRARY", r.Item3);
            StringAssert.Contains(missing, r.Item3);
        }

        [Test]
        public void PackagedCopyIsPreferredOverTheCheckout()
        {
            var r = Probe(Paths.Build, "version", null);
            Assert.AreEqual(0, r.Item1, r.Item3);
            string packaged = Path.Combine(Paths.Build, "runtimes", "linux-x64", "native", "libbearer.so");
            Assert.AreEqual(new[] { packaged }, Lines(r.Item2, "loaded "));
            StringAssert.Contains("version " + BearerClient.Version, r.Item2);
        }

        [Test]
        public void CheckoutTargetIsTheFallback()
        {
            string dir = Path.Combine(Paths.Build, "nopackage");
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            Directory.CreateDirectory(dir);
            var r = Probe(CopyProbe(dir), "fetch", null);
            Assert.AreEqual(0, r.Item1, r.Item3);
            Assert.AreEqual(new[] { Path.Combine(Paths.Repo, "target", "release", "libbearer.so") }, Lines(r.Item2, "loaded "));
        }

        [Test]
        public void NothingFoundNamesEveryPathTried()
        {
            string dir = CopyProbe(Child.TempDir());
            var r = Probe(dir, "version", null);
            Assert.AreEqual(3, r.Item1, r.Item2 + r.Item3);
            StringAssert.Contains(Path.Combine(dir, "runtimes", "linux-x64", "native", "libbearer.so"), r.Item3);
            StringAssert.Contains("BEARER_LIBRARY", r.Item3);
            Directory.Delete(dir, true);
        }
    }
}
