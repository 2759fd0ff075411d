using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Bearer.Tests
{
    /// <summary>The binding's declarations against ../../include/bearer.h.</summary>
    [TestFixture]
    public class DriftTests
    {
        static string HeaderWithoutComments()
        {
            string text = File.ReadAllText(Paths.Header);
            text = Regex.Replace(text, @"/\*.*?\*/", " ", RegexOptions.Singleline);
            return Regex.Replace(text, @"//[^\n]*", " ");
        }

        /// <summary>name -> (return type, [(C type, name)]) for every function in the header.</summary>
        static Dictionary<string, Tuple<string, List<Tuple<string, string>>>> HeaderFunctions()
        {
            var result = new Dictionary<string, Tuple<string, List<Tuple<string, string>>>>();
            var decl = new Regex(@"^\s*((?:const\s+)?\w+\s*\**)\s*(bearer_\w+)\s*\(([^)]*)\)\s*;", RegexOptions.Multiline);
            foreach (Match m in decl.Matches(HeaderWithoutComments()))
            {
                var parameters = new List<Tuple<string, string>>();
                string list = Regex.Replace(m.Groups[3].Value, @"\s+", " ").Trim();
                if (list != "void")
                {
                    foreach (string p in list.Split(','))
                    {
                        var pm = Regex.Match(p.Trim(), @"^(.*?)(\w+)$");
                        parameters.Add(Tuple.Create(Normal(pm.Groups[1].Value), pm.Groups[2].Value));
                    }
                }
                result[m.Groups[2].Value] = Tuple.Create(Normal(m.Groups[1].Value), parameters);
            }
            return result;
        }

        static string Normal(string cType) { return Regex.Replace(cType, @"\s*\*", "*").Trim(); }

        /// <summary>The managed type each C type must be declared as.</summary>
        static readonly Dictionary<string, string> Expected = new Dictionary<string, string>
        {
            { "void", "System.Void" },
            { "bearer_status", "System.Int32" },
            { "bearer_status*", "System.Int32&" },                     // out status
            { "const char*", "System.Byte[]" },                        // UTF-8 in, NUL-terminated
            { "char*", "System.IntPtr" },                              // a string handed back to be freed
            { "char**", "System.IntPtr&" },                            // out string
            { "bearer_client**", "Bearer.BearerClientHandle&" },       // out handle
            { "const bearer_client*", "Bearer.BearerClientHandle" },
            { "bearer_client*", "System.IntPtr" },                     // only bearer_client_free takes ownership
            { "bearer_login**", "Bearer.BearerLoginHandle&" },         // out handle
            { "const bearer_login*", "Bearer.BearerLoginHandle" },
            { "bearer_login*", "System.IntPtr" },                      // only bearer_login_free takes ownership
            { "bearer_device**", "Bearer.BearerDeviceHandle&" },       // out handle
            { "const bearer_device*", "Bearer.BearerDeviceHandle" },
            { "bearer_device*", "System.IntPtr" },                     // only bearer_device_free takes ownership
            { "unsigned int", "System.UInt32" },
            { "bool*", "System.Boolean&" },                            // out bool, marshalled as one byte
        };

        static MethodInfo[] Declared()
        {
            return typeof(BearerClient).Assembly.GetType("Bearer.NativeMethods", true)
                .GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
                .Where(m => m.GetCustomAttributes(typeof(DllImportAttribute), false).Length > 0).ToArray();
        }

        [Test]
        public void FunctionsAndParametersMatchTheHeader()
        {
            var header = HeaderFunctions();
            Assert.That(header.Count, Is.GreaterThanOrEqualTo(16), "the parser found the header's functions");
            var declared = Declared().ToDictionary(m => m.Name);
            CollectionAssert.AreEquivalent(header.Keys, declared.Keys, "same set of functions");
            foreach (var pair in header)
            {
                MethodInfo m = declared[pair.Key];
                string returnC = pair.Value.Item1;
                string expectedReturn = returnC == "const char*" ? "System.IntPtr" : Expected[returnC];
                Assert.AreEqual(expectedReturn, m.ReturnType.FullName, pair.Key + " return type");
                ParameterInfo[] ps = m.GetParameters();
                Assert.AreEqual(pair.Value.Item2.Count, ps.Length, pair.Key + " parameter count");
                for (int i = 0; i < ps.Length; i++)
                {
                    Assert.AreEqual(pair.Value.Item2[i].Item2, ps[i].Name, pair.Key + " parameter " + i + " name");
                    Assert.AreEqual(Expected[pair.Value.Item2[i].Item1], ps[i].ParameterType.FullName,
                        pair.Key + " parameter " + ps[i].Name + " (" + pair.Value.Item2[i].Item1 + ")");
                    string cType = pair.Value.Item2[i].Item1;
                    if (cType.EndsWith("**") || cType == "bearer_status*" || cType == "bool*") Assert.IsTrue(ps[i].IsOut, pair.Key + " " + ps[i].Name + " is out");
                    if (cType == "bool*")
                    {
                        var marshal = (MarshalAsAttribute)ps[i].GetCustomAttributes(typeof(MarshalAsAttribute), false).SingleOrDefault();
                        Assert.IsNotNull(marshal, pair.Key + " " + ps[i].Name + " has MarshalAs");
                        Assert.AreEqual(UnmanagedType.U1, marshal.Value, pair.Key + " " + ps[i].Name + ": C bool is one byte");
                    }
                }
                var import = (DllImportAttribute)m.GetCustomAttributes(typeof(DllImportAttribute), false)[0];
                Assert.AreEqual(CallingConvention.Cdecl, import.CallingConvention, pair.Key);
            }
        }

        /// <summary>Each opaque type of the header has its SafeHandle, named after it, and a
        /// _free function taking the raw pointer (which only the handle's release calls).</summary>
        [Test]
        public void OpaqueTypesHaveTheirHandles()
        {
            var opaque = Regex.Matches(HeaderWithoutComments(), @"typedef\s+struct\s+(\w+)\s+(\w+)\s*;")
                .Cast<Match>().Select(m => m.Groups[2].Value).ToList();
            CollectionAssert.AreEquivalent(new[] { "bearer_client", "bearer_device", "bearer_login" }, opaque);
            var header = HeaderFunctions();
            foreach (string type in opaque)
            {
                string pascal = string.Concat(type.Split('_').Select(w => w.Substring(0, 1).ToUpperInvariant() + w.Substring(1)));
                Type handle = typeof(BearerClient).Assembly.GetType("Bearer." + pascal + "Handle", true);
                Assert.IsTrue(typeof(SafeHandle).IsAssignableFrom(handle), handle.Name + " is a SafeHandle");
                Assert.IsTrue(header.ContainsKey(type + "_free"), type + "_free exists");
                Assert.AreEqual(type + "*", header[type + "_free"].Item2.Single().Item1);
            }
        }

        [Test]
        public void StatusNumbersMatchTheHeader()
        {
            var header = new Dictionary<string, int>();
            foreach (Match m in Regex.Matches(HeaderWithoutComments(), @"BEARER_STATUS_(\w+)\s*=\s*(\d+)"))
            {
                string pascal = string.Concat(m.Groups[1].Value.Split('_')
                    .Select(w => w.Substring(0, 1) + w.Substring(1).ToLowerInvariant()));
                header[pascal] = int.Parse(m.Groups[2].Value);
            }
            Assert.That(header.Count, Is.GreaterThanOrEqualTo(9));
            var declared = Enum.GetValues(typeof(BearerStatus)).Cast<BearerStatus>()
                .ToDictionary(s => s.ToString(), s => (int)s);
            CollectionAssert.AreEquivalent(header, declared);
        }
    }
}
