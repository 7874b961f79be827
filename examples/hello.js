// A code step: an ES module exporting code(inputs). Run it with
//   go run ./cmd/airlock run examples/hello.js --input '{"name":"airlock"}'
export const code = async (inputs) => {
  const name = (inputs && inputs.name) || "world";
  console.log(`greeting ${name}`);
  return { greeting: `Hello, ${name}!` };
};
