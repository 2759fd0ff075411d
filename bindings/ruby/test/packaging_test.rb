# frozen_string_literal: true

require "setup"
require "tmpdir"
require "fileutils"
require "open3"

# Builds the gem with the library packaged in it, installs it into a scratch
# folder and checks that, required as a gem, it loads the packaged copy.
class PackagingTest < Minitest::Test
  SOURCE = File.expand_path("..", __dir__)

  def test_gem_ships_and_loads_the_packaged_library
    Dir.mktmpdir do |dir|
      stage = File.join(dir, "stage")
      FileUtils.mkdir_p(stage)
      FileUtils.cp_r(%w[lib bearer.gemspec README.md].map { |f| File.join(SOURCE, f) }, stage)
      FileUtils.rm_f(Dir[File.join(stage, "lib/bearer/native/*.so")])
      FileUtils.mkdir_p(File.join(stage, "lib/bearer/native"))
      FileUtils.cp(Bearer::Native::PATH, File.join(stage, "lib/bearer/native/libbearer.so"))

      gem = File.join(dir, "bearer-#{Bearer::VERSION}.gem")
      _, err, status = Open3.capture3(Gem.ruby, "-S", "gem", "build", "bearer.gemspec", "--output", gem, chdir: stage)
      assert status.success?, err
      home = File.join(dir, "gems")
      _, err, status = Open3.capture3(Gem.ruby, "-S", "gem", "install", "--local", "--ignore-dependencies",
                                      "--no-document", "--install-dir", home, gem)
      assert status.success?, err

      env = { "GEM_PATH" => ([home] + Gem.path).join(File::PATH_SEPARATOR), "BEARER_LIBRARY" => nil,
              "RUBYLIB" => nil, "RUBYOPT" => nil }
      code = 'require "bearer"; puts Bearer::Native::PATH; puts Bearer.fetch_token(ARGV[0])'
      out, err, status = Open3.capture3(env, Gem.ruby, "-e", code, JSON.generate(auth0_config), chdir: dir)
      assert status.success?, err
      path, token = out.lines.map(&:chomp)
      assert path.start_with?(home), path
      assert path.end_with?("lib/bearer/native/libbearer.so"), path
      assert jwt?(token)
    end
  end
end
