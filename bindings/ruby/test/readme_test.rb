# frozen_string_literal: true

require "setup"
require "tmpdir"
require "base64"

# Runs the first ```ruby block of README.md as written, in a child process,
# in a folder holding cobuilder_credentials.json pointed at the local server.
class ReadmeTest < Minitest::Test
  README = File.expand_path("../README.md", __dir__)

  def test_readme_example_runs_as_written
    example = File.read(README)[/```ruby\n(.*?)```/m, 1]
    refute_nil example, "no ```ruby block in README.md"
    Dir.mktmpdir do |dir|
      File.write(File.join(dir, "cobuilder_credentials.json"), JSON.pretty_generate(cobuilder_config))
      (out, err, status), delta = counting { ruby_subprocess(example, chdir: dir) }
      assert status.success?, err
      assert_match(/\ABearer eyJ[\w-]+\.[\w-]+\.[\w-]+\n\z/, out)
      assert_equal 1, delta["cobuilder"]
    end
  end

  def block_with(marker)
    File.read(README).scan(/```ruby\n(.*?)```/m).flatten.find { |code| code.include?(marker) } or
      flunk "no ```ruby block with #{marker} in README.md"
  end

  # The Net::HTTP and Faraday examples, with the Cobuilder API's origin
  # replaced by the local server's.
  %w[bearer/net_http bearer/faraday].each do |feature|
    define_method("test_readme_#{feature.split('/').last}_example_runs") do
      example = block_with("require '#{feature}'").gsub("https://api.cobuilder.com", TestServer.base)
      Dir.mktmpdir do |dir|
        File.write(File.join(dir, "cobuilder_credentials.json"), JSON.generate(cobuilder_config))
        (out, err, status), delta = counting { ruby_subprocess(example, chdir: dir) }
        assert status.success?, err
        json = JSON.parse(out)
        assert_equal "/api/your/resource", json["path"]
        assert_equal 1, json["headers"].count("authorization")
        assert_equal({ "cobuilder" => 1, "api" => 1 }, delta.slice("cobuilder", "api"))
      end
    end
  end

  def sign_in_config(**extra)
    { "client_id" => "native-client", "audience" => "https://beeapp.open-cosmos.com",
      "grant_type" => "authorization_code", "authorize_url" => "#{TestServer.base}/authorize",
      "token_url" => "#{TestServer.base}/oauth/token" }.merge(extra)
  end

  # The web-app example, with what a framework would provide defined around
  # it: a session Hash, a redirect that "is" the browser (Net::HTTP follows no
  # redirect, so it reads the Location), and the URL the browser came back to.
  def test_readme_web_app_example_runs
    example = block_with("authorize_start")
    framework = <<~RUBY
      require "bearer"
      require "net/http"
      session = {}
      def redirect(url) = $back = Net::HTTP.get_response(URI(url))["location"]
      def callback_url = $back
    RUBY
    Dir.mktmpdir do |dir|
      File.write(File.join(dir, "web_app.json"),
                 JSON.generate(sign_in_config("redirect_uri" => "http://127.0.0.1:9/callback")))
      (out, err, status), delta = counting { ruby_subprocess(framework + example, chdir: dir) }
      assert status.success?, err
      assert_match(/\ABearer eyJ[\w-]+\.[\w-]+\.[\w-]+\n\z/, out)
      assert_equal({ "auth0" => 1, "authorize" => 1 }, delta.slice("auth0", "authorize"))
    end
  end

  # The example without a shared secret, as written, once with a
  # private_key_jwt file and once with a mutual-TLS one in its place.
  def test_readme_without_a_shared_secret_example_runs
    example = block_with("jwt_client.json")
    root = LocalServer::ROOT
    tls = TlsTestServer.server
    configs = {
      "jwt-client" => { "client_id" => "jwt-client", "client_auth" => "private_key_jwt",
                        "private_key_file" => File.join(root, "tests", "keys", "rsa.key"),
                        "audience" => "https://beeapp.open-cosmos.com",
                        "token_url" => "#{TestServer.base}/oauth/token" },
      "mtls-client" => { "client_id" => "mtls-client", "client_auth" => "tls_client_auth",
                         "client_cert_file" => File.join(LocalServer::TLS_DIR, "client.pem"),
                         "client_key_file" => File.join(LocalServer::TLS_DIR, "client.key"),
                         "ca_file" => File.join(LocalServer::TLS_DIR, "ca.pem"),
                         "audience" => "https://beeapp.open-cosmos.com",
                         "token_url" => "#{tls.mtls_base}/oauth/token" }
    }
    configs.each do |client_id, config|
      Dir.mktmpdir do |dir|
        File.write(File.join(dir, "jwt_client.json"), JSON.generate(config))
        out, err, status = ruby_subprocess(example, chdir: dir)
        assert status.success?, err
        payload = out[/\ABearer eyJ[\w-]+\.([\w-]+)\.[\w-]+\n\z/, 1] or flunk "unexpected output #{out.inspect}"
        claims = JSON.parse(Base64.urlsafe_decode64(payload + "=" * (-payload.length % 4)))
        assert_equal "#{client_id}@clients", claims["sub"]
      end
    end
  end

  # The device example as written (plus $stdout.sync = true) in a child
  # process that prints the code; this test is the user and approves it.
  def test_readme_device_example_runs
    require "open3"
    example = block_with("DeviceLogin")
    config = { "client_id" => "native-client", "grant_type" => "device_code",
               "device_authorization_url" => "#{TestServer.base}/oauth/device/code?interval=0",
               "token_url" => "#{TestServer.base}/oauth/token", "audience" => "https://beeapp.open-cosmos.com",
               "scope" => "openid offline_access" }
    Dir.mktmpdir do |dir|
      File.write(File.join(dir, "device.json"), JSON.generate(config))
      lib = File.expand_path("../lib", __dir__)
      Open3.popen3(RbConfig.ruby, "-I", lib, "-e", "$stdout.sync = true\n#{example}", chdir: dir) do |stdin, out, err, wait|
        stdin.close
        line = out.gets.to_s
        match = line.match(/\AOpen (\S+) and enter (\S+)\n\z/) or
          flunk "unexpected first line #{line.inspect}: #{err.read}"
        uri, code = match.captures
        assert_equal "#{TestServer.base}/activate", uri
        query = URI.encode_www_form(user_code: code, action: "approve")
        assert_equal "200", Net::HTTP.post(URI("#{TestServer.base}/_device?#{query}"), "", "Content-Type" => "text/plain").code
        assert_match(/\ABearer eyJ[\w-]+\.[\w-]+\.[\w-]+\n\z/, out.read)
        assert wait.value.success?, err.read
      ensure
        Process.kill(:KILL, wait.pid) if wait&.alive?
      end
    end
  end

  # The loopback example as written, in a child process that prints the URL;
  # this test is the browser.
  def test_readme_loopback_example_runs
    require "open3"
    example = block_with("LoopbackLogin")
    Dir.mktmpdir do |dir|
      File.write(File.join(dir, "native_app.json"), JSON.generate(sign_in_config))
      lib = File.expand_path("../lib", __dir__)
      Open3.popen3(RbConfig.ruby, "-I", lib, "-e", "$stdout.sync = true\n#{example}", chdir: dir) do |stdin, out, err, wait|
        stdin.close
        line = out.gets.to_s
        url = line[/\AOpen (\S+)\n\z/, 1] or flunk "unexpected first line #{line.inspect}: #{err.read}"
        location = Net::HTTP.get_response(URI(url))["location"]
        page = Net::HTTP.get_response(URI(location))
        assert_equal "200", page.code
        assert_match(/\ABearer eyJ[\w-]+\.[\w-]+\.[\w-]+\n\z/, out.read)
        assert wait.value.success?, err.read
      ensure
        # A child still waiting for a browser that never came (a failure
        # above) would block for its whole timeout; SIGKILL, since Ruby only
        # handles TERM once the native wait returns.
        Process.kill(:KILL, wait.pid) if wait&.alive?
      end
    end
  end
end
