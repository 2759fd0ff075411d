using System;
using Bearer;

// Run in a child process by the shared cache tests: makes a client from the configuration
// on standard input and prints its token.
static class Probe
{
    static int Main()
    {
        using (var client = new BearerClient(Console.In.ReadToEnd()))
            Console.Out.Write(client.GetToken());
        return 0;
    }
}
