// The per-request cost of BearerHandler against the floor (the same HttpClient with a fixed
// Authorization header), interleaved in rounds against a local `bearer serve`. Run by bench.sh.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;
using Bearer;
using Bearer.Http;

static class Bench
{
    const int Rounds = 10, PerRound = 300, WarmUp = 500;

    /// <summary>What it costs to get the token on a pool thread for every request (Task.Run),
    /// which BearerHandler does only when the token may need a request.</summary>
    sealed class TaskRunHandler : DelegatingHandler
    {
        readonly BearerClient client;
        internal TaskRunHandler(BearerClient client) { this.client = client; InnerHandler = new HttpClientHandler(); }
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await client.GetTokenAsync(cancellationToken).ConfigureAwait(false));
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    static void Main(string[] args)
    {
        string baseUrl = args[0];
        string config = "{\"client_id\":\"demo-client\",\"client_secret\":\"demo-secret\","
            + "\"audience\":\"https://beeapp.open-cosmos.com\",\"token_url\":\"" + baseUrl + "/oauth/token\"}";
        string url = baseUrl + "/api/whoami";
        using (var client = new BearerClient(config))
        {
            var floor = new HttpClient(new HttpClientHandler());
            floor.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", client.GetToken());
            var rows = new List<Tuple<string, HttpClient>>
            {
                Tuple.Create("HttpClient fixed header", floor),
                Tuple.Create("HttpClient + BearerHandler", new HttpClient(new BearerHandler(client))),
                Tuple.Create("HttpClient + BearerHandler(inner)", new HttpClient(new BearerHandler(client) { InnerHandler = new HttpClientHandler() })),
                Tuple.Create("HttpClient + Task.Run token", new HttpClient(new TaskRunHandler(client))),
            };
            var samples = rows.Select(_ => new List<double>()).ToList();
            foreach (var row in rows)
                for (int i = 0; i < WarmUp; i++) Once(row.Item2, url);
            double tick = 1e6 / Stopwatch.Frequency;
            for (int round = 0; round < Rounds; round++)
                for (int r = 0; r < rows.Count; r++)
                    for (int i = 0; i < PerRound; i++)
                    {
                        long start = Stopwatch.GetTimestamp();
                        Once(rows[r].Item2, url);
                        samples[r].Add((Stopwatch.GetTimestamp() - start) * tick);
                    }
            double floorUs = Median(samples[0]);
            Console.WriteLine("{0,-36}{1,10}{2,10}{3,16}", "csharp integration", "us/request", "added us", "ratio to floor");
            for (int r = 0; r < rows.Count; r++)
            {
                double us = Median(samples[r]);
                Console.WriteLine("{0,-36}{1,10:F1}{2,10:F1}{3,16:F2}", rows[r].Item1, us, us - floorUs, us / floorUs);
            }
            Console.Error.WriteLine("(" + Rounds * PerRound + " requests per row, GET /api/whoami over kept-alive connections, Mono "
                + Type.GetType("Mono.Runtime").GetMethod("GetDisplayName", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static).Invoke(null, null)
                + "; no peer row: Duende.AccessTokenManagement and IdentityModel are NuGet-only and NuGet is not reachable here)");
        }
    }

    static void Once(HttpClient http, string url)
    {
        using (HttpResponseMessage response = http.GetAsync(url).Result)
        {
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException(url + ": " + (int)response.StatusCode);
            response.Content.ReadAsByteArrayAsync().Wait();
        }
    }

    static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
