// The `ref` half of the rclnodejs addon stand-in: C memory as rclnodejs's JavaScript sees it.
//
// rclnodejs 2.2.0 builds its own copy of ref-napi into rclnodejs.node
// (third_party/ref-napi/src/ref_napi_bindings.cpp); its generated message classes write C
// structs (rosidl_runtime_c layouts, via @rclnodejs/ref-struct-di) into Node Buffers and follow
// pointers with `PointerBuffer` objects. Without a native addon, addresses have to be made up:
// every ArrayBuffer whose address is asked for gets a base address of its own in a simulated
// address space, so a pointer written into one struct can be followed back to the bytes it
// names. Each function below does what its namesake in ref_napi_bindings.cpp does, with one
// difference that only makes the stand-in stricter: following a pointer into memory that is not
// (or no longer) allocated throws instead of reading garbage.

const POINTER_SIZE = 8;
const FIRST_ADDRESS = 0x1000_0000;
/** Gap between simulated allocations, so running off the end of one never lands in the next. */
const GUARD_BYTES = 64;

interface Region {
  readonly base: number;
  readonly size: number;
  readonly memory: WeakRef<ArrayBufferLike>;
}

/** The simulated address space. */
export class Heap {
  readonly #bases = new WeakMap<ArrayBufferLike, number>();
  readonly #regions: Region[] = [];
  #next = FIRST_ADDRESS;

  /** Address of the first byte of `bytes` (registers its ArrayBuffer on first use). */
  addressOf(bytes: Uint8Array): number {
    const memory = bytes.buffer;
    let base = this.#bases.get(memory);
    if (base === undefined) {
      base = this.#next;
      this.#next += Math.ceil(memory.byteLength / 16) * 16 + GUARD_BYTES;
      this.#bases.set(memory, base);
      this.#regions.push({ base, size: memory.byteLength, memory: new WeakRef(memory) });
    }
    return base + bytes.byteOffset;
  }

  /** The `length` bytes at `address`, as a view of the memory that holds them. */
  view(address: number, length: number): Uint8Array {
    const { memory, offset } = this.#resolve(address, length);
    return new Uint8Array(memory, offset, length);
  }

  /** The whole allocation `address` starts, when it starts one (for ownership transfers). */
  allocationAt(address: number): ArrayBufferLike | undefined {
    const { memory, offset } = this.#resolve(address, 0);
    return offset === 0 ? memory : undefined;
  }

  /** Bytes from `address` up to the first run of `zeros` zero bytes (ReinterpretBufferUntilZeros). */
  lengthUntilZeros(address: number, zeros: number): number {
    const { memory, offset } = this.#resolve(address, 0);
    const bytes = new Uint8Array(memory);
    let size = 0;
    for (;;) {
      let end = true;
      for (let i = 0; i < zeros; i++) {
        const at = offset + size + i;
        if (at >= bytes.length) throw new Error(`reinterpretUntilZeros: no terminator before the end of the allocation at 0x${address.toString(16)}`);
        if (bytes[at] !== 0) {
          end = false;
          break;
        }
      }
      if (end) return size;
      size += zeros;
    }
  }

  #resolve(address: number, length: number): { memory: ArrayBufferLike; offset: number } {
    if (address === 0) throw new Error("null pointer dereference");
    let lo = 0;
    let hi = this.#regions.length - 1;
    let found: Region | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const region = this.#regions[mid]!;
      if (region.base <= address) {
        found = region;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (!found || address + length > found.base + found.size) {
      throw new Error(`access to unallocated memory: ${length} bytes at 0x${address.toString(16)}`);
    }
    const memory = found.memory.deref();
    if (!memory) throw new Error(`use after free: 0x${address.toString(16)}`);
    return { memory, offset: address - found.base };
  }
}

/** ref-napi's PointerBuffer (ObjectWrap in ref_napi_bindings.cpp): an address and a length. */
export class PointerBuffer {
  readonly _address: number;
  readonly _length: number;
  readonly #heap: Heap;
  readonly #make: (address: number, length: number) => PointerBuffer;

  constructor(heap: Heap, make: (address: number, length: number) => PointerBuffer, address: number, length: number) {
    this.#heap = heap;
    this.#make = make;
    this._address = address;
    this._length = address === 0 ? 0 : length;
  }

  get length(): number {
    return this._length;
  }

  isNull(): boolean {
    return this._address === 0;
  }

  address(): number {
    return this._address;
  }

  /** `ptr_[offset]`: a C char, signed. */
  get(offset: number): number {
    const byte = this.#heap.view(this._address + offset, 1)[0]!;
    return byte > 127 ? byte - 256 : byte;
  }

  toString(encoding?: string): string {
    if (encoding !== undefined && encoding !== "utf-8" && encoding !== "ucs2") throw new TypeError(`Unknown encoding argument: ${encoding}`);
    if (this._length === 0) return "";
    const bytes = this.#heap.view(this._address, this._length);
    return encoding === "ucs2" ? Buffer.from(bytes).toString("ucs2") : Buffer.from(bytes).toString("utf8");
  }

  /** As PointerBuffer::Copy: copies end - start bytes from the start of this pointer (not from start). */
  copy(dest: Uint8Array | PointerBuffer, destOffset: number, start: number, end: number): number {
    const length = end - start;
    const target = dest instanceof PointerBuffer ? this.#heap.view(dest._address + destOffset, length) : dest.subarray(destOffset, destOffset + length);
    target.set(this.#heap.view(this._address, length));
    return length;
  }

  slice(offset: number): PointerBuffer {
    return this.#make(this._address + offset, this._length - offset);
  }
}

/** The `ref` object rclnodejs.node exports (InitRefNapi), bound to one heap. */
export function refBindings(heap: Heap): Record<string, unknown> {
  const dataAddress = (value: unknown): number => {
    if (value instanceof PointerBuffer) return value._address;
    if (value instanceof Uint8Array) return heap.addressOf(value);
    throw new TypeError("Buffer or PointerBuffer instance expected");
  };
  const addressForArgs = (buf: unknown, offset: unknown): number => dataAddress(buf) + Number(offset ?? 0);
  /** A DataView on the bytes at `buf + offset`, which may be a Buffer or a PointerBuffer. */
  const at = (buf: unknown, offset: unknown, length: number, what: string): DataView => {
    const address = addressForArgs(buf, offset);
    if (address === 0) throw new TypeError(`${what}: Cannot read from nullptr pointer`);
    const bytes = buf instanceof Uint8Array ? buf.subarray(Number(offset ?? 0), Number(offset ?? 0) + length) : heap.view(address, length);
    if (bytes.length !== length) throw new RangeError(`${what}: ${length} bytes at offset ${String(offset)} are outside the buffer`);
    return new DataView(bytes.buffer, bytes.byteOffset, length);
  };
  // One class per heap, exported as ref's PointerBuffer: ref.js adds its methods to this
  // prototype and tests `instanceof` it, so every pointer handed out must be one of these.
  class BoundPointerBuffer extends PointerBuffer {
    constructor(address: number, length: number) {
      super(heap, pointer, address, length);
    }
  }
  function pointer(address: number, length: number): PointerBuffer {
    return new BoundPointerBuffer(address, length);
  }
  const jsInteger = (value: bigint): number | string =>
    value >= -9007199254740992n && value <= 9007199254740992n ? Number(value) : value.toString();
  const int64From = (value: unknown, what: string): bigint => {
    if (typeof value === "number") return BigInt(Math.trunc(value));
    if (typeof value === "string") {
      const text = value.trim();
      try {
        return BigInt(text);
      } catch {
        throw new TypeError(`${what}: no digits we found in input String`);
      }
    }
    throw new TypeError(`${what}: Number/String 64-bit value required`);
  };

  const sizeof = {
    int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float: 4, double: 8, bool: 1,
    byte: 1, char: 1, uchar: 1, short: 2, ushort: 2, int: 4, uint: 4, long: 8, ulong: 8, longlong: 8, ulonglong: 8,
    pointer: POINTER_SIZE, size_t: 8, Object: POINTER_SIZE,
  };
  const objects = new Map<number, object>();

  return {
    instance: {},
    PointerBuffer: BoundPointerBuffer,
    sizeof,
    alignof: { ...sizeof },
    NULL: pointer(0, 0),
    nullptr: pointer(0, 0),
    address: (buf: unknown, offset?: number) => addressForArgs(buf, offset),
    hexAddress: (buf: unknown, offset?: number) => {
      const address = addressForArgs(buf, offset);
      return address === 0 ? "(nil)" : address.toString(16);
    },
    isNull: (buf: unknown, offset?: number) =>
      buf instanceof Uint8Array || buf instanceof PointerBuffer ? addressForArgs(buf, offset) === 0 : false,
    isAddress: (buf: unknown) => buf instanceof Uint8Array || buf instanceof PointerBuffer,
    readObject: (buf: unknown, offset?: number) => {
      const id = at(buf, offset, POINTER_SIZE, "readObject").getBigUint64(0, true);
      return objects.get(Number(id));
    },
    _writeObject: (buf: unknown, offset: number, value: unknown) => {
      const view = at(buf, offset, POINTER_SIZE, "writeObject");
      if (value === null) {
        view.setBigUint64(0, 0n, true);
        return;
      }
      if (typeof value !== "object") throw new TypeError("WriteObject's 3rd argument needs to be an object");
      const id = objects.size + 1;
      objects.set(id, value);
      view.setBigUint64(0, BigInt(id), true);
    },
    readPointer: (buf: unknown, offset: number, size: number) => {
      const target = at(buf, offset, POINTER_SIZE, "readPointer").getBigUint64(0, true);
      return pointer(Number(target), Number(size ?? 0));
    },
    _writePointer: (buf: unknown, offset: number, input: unknown) => {
      if (input !== null && !(input instanceof Uint8Array) && !(input instanceof PointerBuffer)) {
        throw new TypeError("writePointer: Buffer instance expected as third argument");
      }
      const view = at(buf, offset, POINTER_SIZE, "writePointer");
      view.setBigUint64(0, input === null ? 0n : BigInt(dataAddress(input)), true);
    },
    readInt64: (buf: unknown, offset: number) => jsInteger(at(buf, offset, 8, "readInt64").getBigInt64(0, true)),
    writeInt64: (buf: unknown, offset: number, value: unknown) => at(buf, offset, 8, "writeInt64").setBigInt64(0, BigInt.asIntN(64, int64From(value, "writeInt64")), true),
    readUInt64: (buf: unknown, offset: number) => jsInteger(at(buf, offset, 8, "readUInt64").getBigUint64(0, true)),
    writeUInt64: (buf: unknown, offset: number, value: unknown) => at(buf, offset, 8, "writeUInt64").setBigUint64(0, BigInt.asUintN(64, int64From(value, "writeUInt64")), true),
    readInt32: (buf: unknown, offset: number) => at(buf, offset, 4, "readInt32").getInt32(0, true),
    writeInt32: (buf: unknown, offset: number, value: unknown) => {
      const v = Number(int64From(value, "writeInt32"));
      if (v < -2147483648 || v > 2147483647) throw new TypeError("writeInt32: value out of range");
      at(buf, offset, 4, "writeInt32").setInt32(0, v, true);
    },
    readUInt32: (buf: unknown, offset: number) => at(buf, offset, 4, "readUInt32").getUint32(0, true),
    readInt8: (buf: unknown, offset: number) => at(buf, offset, 1, "readInt8").getInt8(0),
    readUInt8: (buf: unknown, offset: number) => at(buf, offset, 1, "readUInt8").getUint8(0),
    readFloat: (buf: unknown, offset: number) => at(buf, offset, 4, "readFloat").getFloat32(0, true),
    readDouble: (buf: unknown, offset: number) => at(buf, offset, 8, "readDouble").getFloat64(0, true),
    readInt16: (buf: unknown, offset: number) => at(buf, offset, 2, "readInt16").getInt16(0, true),
    readUInt16: (buf: unknown, offset: number) => at(buf, offset, 2, "readUInt16").getUint16(0, true),
    readCString: (buf: unknown, offset?: number) => {
      const address = addressForArgs(buf, offset);
      if (address === 0) throw new Error("readCString: Cannot read from nullptr pointer");
      const length = heap.lengthUntilZeros(address, 1);
      return Buffer.from(heap.view(address, length)).toString("utf8");
    },
    _reinterpret: (buf: unknown, size: number, offset?: number) => {
      const address = addressForArgs(buf, offset);
      if (address === 0) throw new Error("reinterpret: Cannot reinterpret from nullptr pointer");
      return pointer(address, Number(size));
    },
    _reinterpretUntilZeros: (buf: unknown, zeros: number, offset?: number) => {
      const address = addressForArgs(buf, offset);
      if (address === 0) throw new Error("reinterpretUntilZeros: Cannot reinterpret from nullptr pointer");
      return pointer(address, heap.lengthUntilZeros(address, Number(zeros)));
    },
  };
}

