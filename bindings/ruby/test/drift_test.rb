# frozen_string_literal: true

require "setup"

# Fails when include/bearer.h and Bearer::Native disagree on a function name,
# a parameter (type or name), a return type or a status number.
class DriftTest < Minitest::Test
  HEADER = File.expand_path("../../../include/bearer.h", __dir__)

  def header
    @header ||= File.read(HEADER).gsub(%r{/\*.*?\*/}m, "").gsub(%r{//[^\n]*}, "")
  end

  def normalize(type)
    type.strip.gsub(/\s+/, " ").gsub(/\s*\*/, " *").gsub("* *", "**").strip
  end

  def header_functions
    header.scan(/^([A-Za-z_][\w \t\*]*?)\b(bearer_\w+)\s*\(([^)]*)\)\s*;/m).to_h do |ret, name, params|
      list = params.strip == "void" ? [] : params.split(",").map do |param|
        param = param.strip.gsub(/\s+/, " ")
        pname = param[/(\w+)\z/, 1]
        [normalize(param.delete_suffix(pname)), pname]
      end
      [name.to_sym, [normalize(ret), list]]
    end
  end

  def test_header_was_found_and_parsed
    assert File.file?(HEADER), HEADER
    assert_operator header_functions.size, :>=, 16
  end

  def test_functions_match_header
    declared = Bearer::Native::FUNCTIONS.transform_values do |ret, params, _|
      [normalize(ret), params.map { |type, pname| [normalize(type), pname] }]
    end
    assert_equal header_functions.keys.sort, declared.keys.sort, "function names differ"
    header_functions.each do |name, signature|
      assert_equal signature, declared[name], "#{name} differs from the header"
    end
  end

  def test_every_function_is_attached
    Bearer::Native::FUNCTIONS.each_key { |name| assert_respond_to Bearer::Native, name }
  end

  def test_network_calls_release_the_gvl
    blocking = Bearer::Native::FUNCTIONS.select { |_, (_, _, b)| b }.keys
    assert_equal %i[bearer_client_new bearer_client_token bearer_client_token_response
                    bearer_client_authorization_header bearer_fetch_token bearer_fetch_token_response
                    bearer_authorize_start bearer_authorize_complete bearer_login_start bearer_login_wait
                    bearer_client_token_refused bearer_token_refused bearer_device_start
                    bearer_device_poll].sort,
                 blocking.sort
  end

  def test_opaque_types_match_header
    from_header = header.scan(/typedef\s+struct\s+(\w+)\s+(\w+)\s*;/).map do |tag, name|
      assert_equal tag, name
      name
    end
    assert_equal from_header.sort, Bearer::Native::OPAQUE_TYPES.sort
    from_header.each do |type|
      ["#{type} *", "#{type} **", "const #{type} *"].each do |ctype|
        assert_equal :pointer, Bearer::Native::FFI_TYPES[ctype], ctype
      end
    end
  end

  # Every C type the header uses has an FFI mapping (attach would fail otherwise,
  # but this names the type).
  def test_every_header_type_is_mapped
    header_functions.each_value do |ret, params|
      ([ret] + params.map(&:first)).each do |type|
        assert Bearer::Native::FFI_TYPES.key?(type), "no FFI type for #{type.inspect}"
      end
    end
  end

  def test_status_numbers_match_header
    from_header = header.scan(/BEARER_STATUS_(\w+)\s*=\s*(\d+)/).to_h { |n, v| [n.downcase.to_sym, v.to_i] }
    assert_equal 10, from_header.size
    assert_equal from_header, Bearer::Native::BearerStatus.to_h
    assert_equal from_header, Bearer::ProblemError::CODES
  end

  def test_version_macro_matches_library
    assert_equal header[/#define BEARER_VERSION "([^"]+)"/, 1], Bearer.version
  end
end
