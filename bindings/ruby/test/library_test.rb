# frozen_string_literal: true

require "setup"

class LibraryTest < Minitest::Test
  def test_loaded_from_an_absolute_path
    assert File.absolute_path?(Bearer::Native::PATH)
    assert File.file?(Bearer::Native::PATH)
  end

  def test_search_order_without_env
    paths = Bearer::Native.candidates({})
    root = File.expand_path("../../..", __dir__)
    assert_equal [File.expand_path("../lib/bearer/native/libbearer.so", __dir__),
                  File.join(root, "target/release/libbearer.so"),
                  File.join(root, "target/debug/libbearer.so")], paths
  end

  def test_env_alone_when_set
    assert_equal ["/opt/x/libbearer.so"], Bearer::Native.candidates({ "BEARER_LIBRARY" => "/opt/x/libbearer.so" })
    assert_equal 3, Bearer::Native.candidates({ "BEARER_LIBRARY" => "" }).size
  end

  def test_none_found_names_every_path
    paths = ["/nonexistent/a/libbearer.so", "/nonexistent/b/libbearer.so"]
    error = assert_raises(Bearer::LibraryNotFound) { Bearer::Native.locate(paths) }
    assert_kind_of Bearer::Error, error
    assert_equal paths, error.paths
    paths.each { |path| assert_includes error.message, path }
  end

  def test_missing_bearer_library_in_a_fresh_process
    missing = "/nonexistent/#{SecureRandom.hex(4)}/libbearer.so"
    out, err, status = ruby_subprocess(<<~RUBY, env: { "BEARER_LIBRARY" => missing })
      begin
        require "bearer"
        puts "loaded"
      rescue Bearer::LibraryNotFound => e
        puts e.class, e.message
        exit 3
      end
    RUBY
    assert_equal 3, status.exitstatus, out + err
    assert_includes out, "Bearer::LibraryNotFound"
    assert_includes out, missing
  end

  def test_bearer_library_env_is_used
    out, err, status = ruby_subprocess('require "bearer"; puts Bearer::Native::PATH',
                                       env: { "BEARER_LIBRARY" => Bearer::Native::PATH })
    assert status.success?, err
    assert_equal Bearer::Native::PATH, out.strip
  end
end
