# frozen_string_literal: true

# Run by bench.sh. Rows are measured interleaved, one request of each row
# at a time in a shuffled order, so drift in the machine's load hits all
# rows alike; the figure is the median.

require "net/http"
require "bearer/net_http"
require "test_server"

ROUNDS = 10
PER_ROUND = 500
WARMUP = 300
PATH = "/api/whoami"

server = LocalServer.new
at_exit { server.stop }
base = URI(server.base)
config = { "client_id" => "demo-client", "client_secret" => "demo-secret",
           "audience" => "https://beeapp.open-cosmos.com", "token_url" => "#{server.base}/oauth/token" }
client = Bearer::Client.new(config)
fixed = "Bearer #{client.token}"

check = lambda do |response|
  status = response.respond_to?(:status) ? response.status : response.code.to_i
  raise "unexpected #{status}" unless status == 200
end

rows = [] # [name, floor name, callable]

plain = Net::HTTP.start(base.host, base.port)
rows << ["Net::HTTP fixed header", nil, lambda {
  request = Net::HTTP::Get.new(PATH)
  request["Authorization"] = fixed
  plain.request(request)
}]
wrapped = Net::HTTP.start(base.host, base.port)
wrapped.extend(Bearer::NetHTTP.for(client))
rows << ["Net::HTTP + bearer", "Net::HTTP fixed header", -> { wrapped.request(Net::HTTP::Get.new(PATH)) }]

begin
  require "net/http/persistent"
  require "bearer/faraday"
  adapter = :net_http_persistent
  faraday_fixed = Faraday.new(url: server.base, headers: { "Authorization" => fixed }) { |f| f.adapter adapter }
  faraday_bearer = Faraday.new(url: server.base) do |f|
    f.request :bearer, client
    f.adapter adapter
  end
  rows << ["Faraday fixed header", nil, -> { faraday_fixed.get(PATH) }]
  rows << ["Faraday + bearer", "Faraday fixed header", -> { faraday_bearer.get(PATH) }]
  begin
    require "oauth2"
    oauth = OAuth2::Client.new("demo-client", "demo-secret", site: server.base, token_url: "/oauth/token",
                                                             auth_scheme: :request_body) do |f|
      f.request :url_encoded # what oauth2 uses without a block
      f.adapter adapter
    end
    access = oauth.client_credentials.get_token(audience: config["audience"])
    rows << ["oauth2 AccessToken#get", "Faraday fixed header", -> { access.get(PATH) }]
  rescue LoadError
    warn "oauth2 gem not found (Debian: ruby-oauth2): peer row left out"
  end
rescue LoadError
  warn "net-http-persistent not found (Debian: ruby-net-http-persistent): Faraday rows left out, " \
       "since Faraday 1.1's own net_http adapter opens a connection per request"
end

samples = rows.to_h { |name, _, _| [name, []] }
rows.each { |_, _, call| WARMUP.times { check.call(call.call) } }
# Round robin, one request per row at a time, in a new order each cycle.
random = Random.new(1)
ROUNDS.times do
  GC.start
  PER_ROUND.times do
    rows.shuffle(random: random).each do |name, _, call|
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      response = call.call
      samples[name] << Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
      check.call(response)
    end
  end
end

median = samples.transform_values { |t| t.sort[t.size / 2] * 1e6 }
puts format("%-34s %10s %9s %15s", "ruby integration", "us/request", "added us", "ratio to floor")
rows.each do |name, floor, _|
  us = median[name]
  floor_us = median[floor || name]
  puts format("%-34s %10.1f %9.1f %15.2f", name, us, us - floor_us, us / floor_us)
end
puts format("(%d requests per row, interleaved, in %d rounds, after %d warm-up; Faraday over net_http_persistent)",
            ROUNDS * PER_ROUND, ROUNDS, WARMUP)
client.close
