// A small CRI client for the tests, in place of crictl (not in Debian): the
// runtime.v1 subset in api.proto, loaded at run time with @grpc/proto-loader,
// spoken over containerd's unix socket with @grpc/grpc-js. Field names stay
// as in the .proto (snake_case), so requests read like the API reference.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';

const PROTO = join(__dirname, 'api.proto');

/** A CRI message as proto-loader gives it: int64 as number, enums as their names, bytes as Buffer. */
export type Msg = { [field: string]: any };

type Service = 'RuntimeService' | 'ImageService';

export interface CriClient {
  /** One unary call; rejects with the gRPC status (code and details) on error. */
  call(service: Service, method: string, request?: Msg, timeoutMs?: number): Promise<Msg>;
  close(): void;
}

type Unary = (req: Msg, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;

export function criClient(socket: string): CriClient {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def).runtime as grpc.GrpcObject;
  const v1 = pkg.v1 as grpc.GrpcObject;
  const clients = new Map<Service, grpc.Client>();
  const stub = (service: Service) => {
    let c = clients.get(service);
    if (!c) {
      const Ctor = v1[service] as grpc.ServiceClientConstructor;
      c = new Ctor(`unix://${socket}`, grpc.credentials.createInsecure());
      clients.set(service, c);
    }
    return c as unknown as Record<string, Unary>;
  };
  return {
    call(service, method, request = {}, timeoutMs = 30000) {
      const fn = stub(service)[method];
      if (typeof fn !== 'function')
        return Promise.reject(new Error(`CRI: ${service} has no method ${method} in ${PROTO}`));
      return new Promise((resolve, reject) => {
        fn.call(stub(service), request, { deadline: Date.now() + timeoutMs }, (err, res) => {
          if (err) reject(new Error(`CRI ${method}: ${grpc.status[err.code]}: ${err.details}`));
          else resolve(res);
        });
      });
    },
    close() {
      for (const c of clients.values()) c.close();
    },
  };
}
