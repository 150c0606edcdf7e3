"""A client that is not ours: Python grpcio discovering Renewal's API by server reflection
(no .proto files, no generated code) and calling it.

    python_client.py HOST:PORT API_KEY AUTHORITY [WARD_VINTAGE BRIDGE_WEIGHTS]

The optional pair goes into the request's scope (a warehouse with data on both LSOA vintages,
such as the demo's, needs them for crime). Prints `area_code,value` for the crime-all ward gap of AUTHORITY, one line per ward, then
`indicators,N` with the number of indicators in the catalogue.
"""

import sys

import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message_factory import GetMessageClass
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def stub(channel, pool, service, method, streaming):
    m = pool.FindServiceByName(service).FindMethodByName(method)
    request, response = GetMessageClass(m.input_type), GetMessageClass(m.output_type)
    path = f"/{service}/{method}"
    call = (channel.unary_stream if streaming else channel.unary_unary)(
        path,
        request_serializer=request.SerializeToString,
        response_deserializer=response.FromString,
    )
    return request, call


def main():
    address, key, authority = sys.argv[1:4]
    scope = sys.argv[4:6]
    channel = grpc.insecure_channel(address)
    pool = DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    auth = [("authorization", f"Bearer {key}")]

    request, call = stub(channel, pool, "renewal.v1.Analysis", "AreaGap", True)
    columns = None
    fields = {"indicator": "crime-all", "authority": authority}
    if len(scope) == 2:
        Scope = GetMessageClass(pool.FindMessageTypeByName("renewal.v1.Scope"))
        fields["scope"] = Scope(ward_vintage=scope[0], bridge_weights=scope[1])
    for chunk in call(request(**fields), metadata=auth):
        if columns is None:
            columns = [c.name for c in chunk.columns]
        for row in chunk.rows:
            cells = dict(zip(columns, row.cells))
            value = cells["value"]
            shown = repr(value.number) if value.WhichOneof("value") == "number" else ""
            print(f"{cells['area_code'].text},{shown}")

    request, call = stub(channel, pool, "renewal.v1.Catalogue", "ListIndicators", False)
    print(f"indicators,{len(call(request(), metadata=auth).indicators)}")


if __name__ == "__main__":
    main()
