using System;
using System.Runtime.InteropServices;

namespace Bearer
{
    /// <summary>
    /// The C ABI of <c>include/bearer.h</c>, one declaration per function, with the
    /// header's parameter names (the test suite compares both). Strings in are
    /// NUL-terminated UTF-8 <c>byte[]</c>, because the default string marshaller is
    /// ANSI on some runtimes; strings out are <see cref="IntPtr"/> so that they can be
    /// read as UTF-8 and handed back to <c>bearer_string_free</c>. Never call these
    /// before <see cref="LibraryLoader.EnsureLoaded"/>: it decides which file
    /// "libbearer.so" means.
    /// </summary>
    internal static class NativeMethods
    {
        /// <summary>The library's SONAME: once a copy is dlopen'ed, this name resolves to it.</summary>
        internal const string LibraryName = "libbearer.so";

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr bearer_version();

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void bearer_string_free(IntPtr text);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void bearer_global_cleanup();

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_test_panic(out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_client_new(byte[] config_json, out BearerClientHandle client_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_client_token(BearerClientHandle client, out IntPtr token_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_client_token_response(BearerClientHandle client, out IntPtr json_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_client_authorization_header(BearerClientHandle client, out IntPtr header_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_client_take_refresh_problem(BearerClientHandle client, out int refresh_status_out, out IntPtr refresh_problem_out, out IntPtr problem_out);

        // C's bool is one byte: U1, not the four-byte Win32 BOOL that is the default.
        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_client_token_refused(BearerClientHandle client, byte[] token,
                                                               [MarshalAs(UnmanagedType.U1)] out bool dropped_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void bearer_client_free(IntPtr client);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_device_start(byte[] config_json, out BearerDeviceHandle device_out, out IntPtr json_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_device_poll(BearerDeviceHandle device, out IntPtr token_json_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void bearer_device_cancel(BearerDeviceHandle device);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void bearer_device_free(IntPtr device);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_authorize_start(byte[] config_json, out IntPtr request_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_authorize_complete(byte[] config_json, byte[] request_json, byte[] redirect_url,
                                                             out IntPtr json_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_login_start(byte[] config_json, out BearerLoginHandle login_out, out IntPtr url_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_login_wait(BearerLoginHandle login, uint timeout_ms, out IntPtr json_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void bearer_login_free(IntPtr login);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_fetch_token(byte[] config_json, out IntPtr token_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_fetch_token_response(byte[] config_json, out IntPtr json_out, out IntPtr problem_out);

        [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int bearer_token_refused(byte[] config_json, byte[] token,
                                                        [MarshalAs(UnmanagedType.U1)] out bool dropped_out, out IntPtr problem_out);
    }

    /// <summary>
    /// Owns one <c>bearer_client *</c>. A SafeHandle rather than an IntPtr so that the
    /// runtime frees it exactly once (Dispose or finalizer), never while a call that
    /// received it is still running on another thread, and never leaks it if an
    /// asynchronous exception lands between the native call and the assignment.
    /// </summary>
    internal sealed class BearerClientHandle : SafeHandle
    {
        /// <summary>Used by the marshaller for <c>bearer_client_new</c>'s out parameter.</summary>
        public BearerClientHandle() : base(IntPtr.Zero, true) { }

        /// <inheritdoc />
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        /// <summary>Calls <c>bearer_client_free</c>; the runtime guarantees once.</summary>
        protected override bool ReleaseHandle()
        {
            NativeMethods.bearer_client_free(handle);
            return true;
        }
    }

    /// <summary>
    /// Owns one <c>bearer_login *</c> (a listener on 127.0.0.1), for the same reasons as
    /// <see cref="BearerClientHandle"/>; in particular the header forbids freeing a login
    /// while another thread waits on it, and a SafeHandle defers the free until that
    /// wait has returned.
    /// </summary>
    internal sealed class BearerLoginHandle : SafeHandle
    {
        /// <summary>Used by the marshaller for <c>bearer_login_start</c>'s out parameter.</summary>
        public BearerLoginHandle() : base(IntPtr.Zero, true) { }

        /// <inheritdoc />
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        /// <summary>Calls <c>bearer_login_free</c>, which also closes the listener; the runtime guarantees once.</summary>
        protected override bool ReleaseHandle()
        {
            NativeMethods.bearer_login_free(handle);
            return true;
        }
    }

    /// <summary>
    /// Owns one <c>bearer_device *</c>, for the same reasons as
    /// <see cref="BearerClientHandle"/>; the header forbids freeing a device sign-in while
    /// another thread polls it, and a SafeHandle defers the free until that poll has
    /// returned (<see cref="BearerDevice.Dispose"/> cancels it first, so that is at once).
    /// </summary>
    internal sealed class BearerDeviceHandle : SafeHandle
    {
        /// <summary>Used by the marshaller for <c>bearer_device_start</c>'s out parameter.</summary>
        public BearerDeviceHandle() : base(IntPtr.Zero, true) { }

        /// <inheritdoc />
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        /// <summary>Calls <c>bearer_device_free</c>; the runtime guarantees once.</summary>
        protected override bool ReleaseHandle()
        {
            NativeMethods.bearer_device_free(handle);
            return true;
        }
    }
}
