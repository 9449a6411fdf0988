import type { Config } from 'jest';

const config: Config = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Interop tests start JVMs and servers; give them room without slowing the fast ones.
  testTimeout: 60_000,
  maxWorkers: 2,
};

export default config;
