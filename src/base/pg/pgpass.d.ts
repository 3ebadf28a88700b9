// pgpass (a dependency of pg) ships no types.
declare module 'pgpass' {
  export default function pgpass(params: object, cb: (password?: string) => void): void;
}
