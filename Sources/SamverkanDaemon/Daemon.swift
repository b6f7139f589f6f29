import Foundation
import Logging
import NIOCore
import NIOPosix
import SamverkanConfig
import SamverkanControl
import SamverkanCore
import SamverkanStore
import ServiceLifecycle
import Systemd
import UnixSignals

/// The composition root: reads options, loads config, binds the socket, and runs the services
/// under a `ServiceGroup` until SIGTERM or SIGINT.
public enum Daemon {
    /// `EX_CONFIG` (sysexits.h): the unit has `RestartPreventExitStatus=78`.
    public static let exitConfig: Int32 = 78
    public static let exitUsage: Int32 = 64
    public static let exitFailure: Int32 = 1

    public static func main(arguments: [String], environment: [String: String]) async -> Int32 {
        let options: DaemonOptions
        do {
            switch try DaemonOptions.parse(arguments: arguments, environment: environment) {
            case .run(let parsed): options = parsed
            case .help:
                print(DaemonOptions.usage)
                return 0
            case .version:
                print("samverkand \(SamverkanVersion.current)")
                return 0
            }
        } catch {
            FileHandle.standardError.write(Data("samverkand: \(error)\n".utf8))
            return exitUsage
        }
        let toJournal = Journal.stderrIsJournal(environment: environment)
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                toJournal
                ? JournalLogHandler(label: label, identifier: "samverkand")
                : StreamLogHandler.standardError(label: label)
            handler.logLevel = environment["SAMVERKAN_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return handler
        }
        let logger = Logger(label: "samverkand")
        return await run(
            options: options, environment: environment,
            clock: SystemWallClock(offsetSeconds: testTimeOffset(environment)), logger: logger)
    }

    /// `SAMVERKAN_TEST_TIME_OFFSET` (seconds) shifts the daemon's clock, for the downtime tests;
    /// release builds ignore it.
    static func testTimeOffset(_ environment: [String: String]) -> Double {
        #if DEBUG
            return environment["SAMVERKAN_TEST_TIME_OFFSET"].flatMap(Double.init) ?? 0
        #else
            return 0
        #endif
    }

    static func run(options: DaemonOptions, environment: [String: String], clock: any WallClock, logger: Logger) async
        -> Int32
    {
        let notifier = SystemdNotifier()
        let config: LoadedConfig
        // The agreement files read now, for the first reload to parse only the files that changed.
        var agreementFiles = AgreementFileCache()
        do {
            let now = clock.now()
            config = try ConfigLoader().load(
                directory: options.configDirectory, today: { $0.today(now) }, cache: &agreementFiles)
        } catch {
            // Compiler-style lines on stderr, and one journal entry for the operator.
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            logger.critical(
                "cannot load config from \(options.configDirectory): \(error.errors.count) errors; first: \(error.errors.first?.description ?? "?")",
                metadata: ["message_id": "\(JournalEvent.configInvalid.rawValue)"])
            return exitConfig
        }
        for warning in config.warnings { logger.warning("\(warning)") }

        // The store takes the state directory's lock: one daemon per state directory.
        let store: SQLiteStore
        do {
            store = try SQLiteStore.open(directory: options.stateDirectory)
        } catch {
            FileHandle.standardError.write(Data("samverkand: \(error.message)\n".utf8))
            logger.critical("cannot open the store: \(error.message)")
            return exitFailure
        }
        // On the ways out before serving; after serving, closed off the executor below.
        defer { try? store.close() }
        let runtime: Runtime
        do {
            runtime = try Runtime(
                options: options, config: config, agreementFiles: agreementFiles, store: store, clock: clock,
                notifier: notifier, logger: logger)
        } catch {
            FileHandle.standardError.write(
                Data("\(options.configDirectory)/samverkand.yaml:1:1: error: \(error)\n".utf8))
            logger.critical("\(error)", metadata: ["message_id": "\(JournalEvent.configInvalid.rawValue)"])
            return exitConfig
        }
        do {
            try await runtime.scheduler.useWallTimer(offsetSeconds: (clock as? SystemWallClock)?.offsetSeconds ?? 0)
        } catch {
            logger.critical("cannot create the wall-clock timer (timerfd): \(error)")
            return exitFailure
        }
        do {
            try await runtime.start()
        } catch {
            FileHandle.standardError.write(Data("samverkand: \(error)\n".utf8))
            switch error {
            case .plan:
                logger.critical(
                    "\(error)", metadata: ["message_id": "\(JournalEvent.configInvalid.rawValue)"])
                return exitConfig
            case .store:
                logger.critical("\(error)", metadata: ["message_id": "\(JournalEvent.storeFailed.rawValue)"])
                return exitFailure
            }
        }

        // The process-wide event loops, which also run Swift concurrency (see main.swift).
        let status = await serve(
            options: options, config: config, runtime: runtime, group: MultiThreadedEventLoopGroup.singleton,
            logger: logger, environment: environment, notifier: notifier)
        notifier.flush()
        // A read may still be in flight (the status line after a reload, say).
        do { try await store.closeOffExecutor() } catch { logger.error("\(error.message)") }
        return status
    }

    private static func serve(
        options: DaemonOptions, config: LoadedConfig, runtime: Runtime, group: MultiThreadedEventLoopGroup,
        logger: Logger, environment: [String: String], notifier: SystemdNotifier
    ) async -> Int32 {
        let routes = ControlRoutes(
            runtime: runtime, logger: logger, adminGroup: config.settings.adminGroup,
            faultInjection: environment["SAMVERKAN_FAULT_INJECTION"] == "1")
        let server: ControlServer
        do {
            let inherited = ListenFDs.inheritedStreamSocket()
            if inherited == nil {
                let directory = (options.socketPath as NSString).deletingLastPathComponent
                try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            server = try await ControlServer.start(
                path: options.socketPath, inheritedSocket: inherited, group: group, handler: routes, logger: logger)
            logger.info("control socket: \(server.address)")
        } catch {
            logger.critical("cannot listen on \(options.socketPath): \(error)")
            return exitFailure
        }

        let hangups = await UnixSignalsSequence(trapping: .sighup)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: SchedulerService(scheduler: runtime.scheduler)),
            .init(service: ControlService(server: server)),
            .init(service: ReloadService(runtime: runtime, signals: hangups)),
        ]
        if let interval = SystemdNotifier.watchdogInterval() {
            services.append(
                .init(service: WatchdogService(scheduler: runtime.scheduler, notifier: notifier, interval: interval)))
        }
        services.append(.init(service: ReadinessService(runtime: runtime, notifier: notifier, logger: logger)))
        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(20)
        configuration.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            logger.error("stopped with an error: \(error)")
            return exitFailure
        }
        return 0
    }
}
