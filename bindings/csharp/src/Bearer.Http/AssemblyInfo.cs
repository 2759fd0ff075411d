using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("Bearer.Http")]
[assembly: AssemblyDescription("HttpClient handler for Bearer: the client's token on every request, a refused token reported and retried once")]
[assembly: AssemblyVersion("0.1.0.0")]
// The tests read the challenge rule directly, for the answers the local server never gives.
[assembly: InternalsVisibleTo("Bearer.Tests")]
