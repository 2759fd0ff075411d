using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("Bearer")]
[assembly: AssemblyDescription("OAuth 2.0 access tokens behind one cached call: .NET binding of libbearer")]
[assembly: AssemblyVersion("0.1.0.0")]
// The tests check the native declarations and the INTERNAL path directly.
[assembly: InternalsVisibleTo("Bearer.Tests")]
// The stress program of the valgrind run shares the suite's Support.cs.
[assembly: InternalsVisibleTo("Bearer.Stress")]
// Bearer.Http (the HttpClient handler, a separate assembly so that Bearer.dll needs no
// System.Net.Http) reads the client's freshness hint and runs the blocking calls off-thread.
[assembly: InternalsVisibleTo("Bearer.Http")]
