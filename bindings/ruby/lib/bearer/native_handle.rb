# frozen_string_literal: true

module Bearer
  # The lifecycle shared by Client and LoopbackLogin: one native handle,
  # freed exactly once, by #close or by the garbage collector
  # (FFI::AutoPointer), and never while a call on another thread still uses
  # it (the C ABI makes that undefined behaviour).
  module NativeHandle
    # Frees the native handle. Waits for calls running on other threads.
    # Calling it again does nothing; any other call afterwards raises
    # Bearer::ClosedError.
    def close
      @lock.synchronize do
        return nil if @closed

        @closed = true
        @idle.wait(@lock) while @active.positive?
      end
      @handle.free
      nil
    end

    def closed?
      @lock.synchronize { @closed ? true : false }
    end

    private

    # Takes ownership of +pointer+, to be released by +free+ (a Native method name).
    def adopt_handle(pointer, free)
      @handle = FFI::AutoPointer.new(pointer, Native.method(free))
      @lock = Mutex.new
      @idle = ConditionVariable.new
      @active = 0
      @closed = false
    end

    # Counts the call in flight so that #close cannot free the handle under it.
    def use
      @lock.synchronize do
        raise ClosedError, "#{self.class.name} is closed" if @closed

        @active += 1
      end
      begin
        yield @handle
      ensure
        @lock.synchronize do
          @active -= 1
          @idle.broadcast if @active.zero?
        end
      end
    end
  end
end
