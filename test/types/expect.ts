/** Compile-time equality of two types; `expectType<Equal<A, B>>()` fails to compile unless they are the same. */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export function expectType<T extends true>(): T | void {}
