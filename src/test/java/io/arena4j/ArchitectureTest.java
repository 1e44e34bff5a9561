package io.arena4j;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import io.arena4j.architecture.cycle.Egg;
import org.junit.jupiter.api.Test;

/** The shape of the library: no dependency cycle among its classes, and the arena knows no pool. */
class ArchitectureTest {

    private static final JavaClasses LIBRARY = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(Arena.class.getPackageName());

    @Test
    void theLibrarysClassesFormNoDependencyCycle() {
        assertTrue(LIBRARY.contain(Arena.class) && LIBRARY.contain(ArenaPool.class) && !LIBRARY.contain(getClass()),
                "the library's classes, and no test's, are checked");
        noCycleAmongTopLevelClasses(Arena.class.getPackageName()).check(LIBRARY);
    }

    @Test
    void theCycleCheckFindsACycle() {
        JavaClasses fixture = new ClassFileImporter().importPackages(Egg.class.getPackageName());
        AssertionError found = assertThrows(AssertionError.class,
                () -> noCycleAmongTopLevelClasses(Egg.class.getPackageName()).check(fixture));
        assertTrue(found.getMessage().contains("Egg") && found.getMessage().contains("Hen"), found.getMessage());
    }

    @Test
    void anArenaKnowsNeitherItsPoolNorHowItIsWatchedForLeaks() {
        noClasses().that().belongToAnyOf(Arena.class, LeakWatch.class, BlockChain.class, ScopeStack.class)
                .should().dependOnClassesThat().belongToAnyOf(ArenaPool.class, PoolStripes.class, PoolBudget.class)
                .check(LIBRARY);
        noClasses().that().belongToAnyOf(LeakWatch.class, BlockChain.class, ScopeStack.class, Usage.class, Events.class)
                .should().dependOnClassesThat().belongToAnyOf(Arena.class)
                .check(LIBRARY);
    }

    /**
     * Each top-level class of {@code packageName}, with its nested classes, is one slice: a
     * builder or a record nested in a class is part of it, as it is part of its source file.
     */
    private static ArchRule noCycleAmongTopLevelClasses(String packageName) {
        SliceAssignment byTopLevelClass = new SliceAssignment() {
            @Override
            public SliceIdentifier getIdentifierOf(JavaClass type) {
                if (!type.getPackageName().equals(packageName)) {
                    return SliceIdentifier.ignore();
                }
                JavaClass topLevel = type;
                while (topLevel.getEnclosingClass().isPresent()) {
                    topLevel = topLevel.getEnclosingClass().get();
                }
                return SliceIdentifier.of(topLevel.getSimpleName());
            }

            @Override
            public String getDescription() {
                return "the top-level classes of " + packageName;
            }
        };
        return slices().assignedFrom(byTopLevelClass).should().beFreeOfCycles();
    }
}
