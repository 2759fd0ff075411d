using System;
using System.IO;
using System.Linq;
using Bearer;

// Run in a child process by the lookup tests, because the library is loaded once per
// process. The first call is chosen by the argument (version | client | fetch | authorize |
// complete | login), since each entry point must load the library itself. Prints what that
// call gave, the path bearer chose and every libbearer mapping of this process; a loading
// error goes to stderr with exit code 3.
static class Probe
{
    static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "version";
        try
        {
            try
            {
                if (mode == "client") new BearerClient("{").Dispose();
                else if (mode == "fetch") BearerClient.FetchToken("{");
                else if (mode == "authorize") BearerClient.AuthorizeStart("{");
                else if (mode == "complete") BearerClient.AuthorizeComplete("{", "{}", "http://127.0.0.1:9/callback");
                else if (mode == "login") BearerLogin.Start("{").Dispose();
                else Console.WriteLine("version " + BearerClient.Version);
            }
            catch (BearerException e)
            {
                Console.WriteLine("problem " + e.Type + " code " + (int)e.Code);
            }
            Console.WriteLine("loaded " + BearerClient.LibraryPath);
            foreach (string path in File.ReadAllLines("/proc/self/maps")
                         .Where(l => l.Contains("libbearer"))
                         .Select(l => l.Substring(l.IndexOf('/')))
                         .Distinct())
                Console.WriteLine("mapped " + path);
            return 0;
        }
        catch (DllNotFoundException e)
        {
            Console.Error.WriteLine(e.Message);
            return 3;
        }
    }
}
